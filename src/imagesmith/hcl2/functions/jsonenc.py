"""JSON encoding and decoding of values, as cty's ``json`` package and ``jsonencode``/``jsondecode``."""

from __future__ import annotations

import json
from fractions import Fraction

from imagesmith.hcl2.convert import unify
from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.json_parser import JArray, JKeyword, JNode, JNumber, JObject, JString, parse_json
from imagesmith.hcl2.numbers import format_number, parse_number
from imagesmith.hcl2.types import DYNAMIC, NUMBER, STRING, DynamicType
from imagesmith.hcl2.values import (
    FALSE,
    NULL_DYNAMIC,
    TRUE,
    UNKNOWN,
    Value,
    object_val,
    string_val,
    tuple_val,
    unknown_val,
)


def _quote(s: str) -> str:
    """A JSON string as Go's encoding/json writes it (HTML characters escaped)."""
    text = json.dumps(s, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def encode_json(val: Value) -> str:
    """Compact JSON for a wholly known value."""
    v = val.v
    if v is UNKNOWN:
        raise FunctionError("value is not known")
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, float):
        raise FunctionError("cannot serialize infinity as JSON")
    if isinstance(v, Fraction):
        return format_number(v)
    if isinstance(v, list):
        return "[" + ",".join(encode_json(e) for e in v) + "]"
    if isinstance(val.type, DynamicType):
        raise FunctionError("value is not known")
    return "{" + ",".join(f"{_quote(k)}:{encode_json(e)}" for k, e in v.items()) + "}"


def _from_node(node: JNode) -> Value:
    if isinstance(node, JString):
        return string_val(node.value)
    if isinstance(node, JNumber):
        num = parse_number(node.text)
        assert num is not None
        return Value(NUMBER, num)
    if isinstance(node, JKeyword):
        return {"true": TRUE, "false": FALSE}.get(node.word, NULL_DYNAMIC)
    if isinstance(node, JArray):
        return tuple_val(_from_node(i) for i in node.items)
    assert isinstance(node, JObject)
    return object_val({p.name: _from_node(p.value) for p in node.props})


def decode_json(text: str) -> Value:
    """The value a JSON document describes: objects become objects, arrays tuples."""
    node, _src, diags = parse_json(text, "<jsondecode>")
    if node is None:
        d = diags[0]
        raise FunctionError(f"{d.summary}: {d.detail}" if d.detail else d.summary)
    return _from_node(node)


def _jsonencode(args: list[Value]) -> Value:
    return string_val(encode_json(args[0]))


def _jsondecode(args: list[Value]) -> Value:
    return decode_json(args[0].as_str())


def _decode_type(args: list[Value]) -> object:
    return decode_json(args[0].as_str()).type if args[0].is_known else DYNAMIC


FUNCTIONS = {
    "jsonencode": make([Param("val", DYNAMIC, allow_null=True)], STRING, _jsonencode),
    "jsondecode": make([Param("str", STRING)], _decode_type, _jsondecode),  # type: ignore[arg-type]
}
_ = (unify, unknown_val)

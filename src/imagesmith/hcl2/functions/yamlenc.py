"""``yamldecode`` and ``yamlencode`` as go-cty-yaml (which Packer uses) does them.

Decoding reads the YAML with PyYAML's parser (events only) and resolves scalars with
go-cty-yaml's rules, which are YAML 1.1's with its own turns: ``yes``/``on``/``y`` are true,
``0x1F`` and ``0o17`` stay strings, ``012`` is twelve, ``1_000`` is a thousand, unquoted dates
become RFC 3339 strings, ``!!binary`` stays base64 text, non-string keys become strings, NaN is
an error; mappings decode to objects and sequences to tuples; anchors, aliases and ``<<`` merges
work; one document only. Encoding writes go-yaml's block style: keys and one-line strings
double-quoted, multi-line strings as ``|`` literals, sequences not indented under their key, a
plain scalar document ended by ``...``. Syntax error texts are PyYAML's, with go-yaml's
"on line L, column C" prefix.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.functions.yamlscalars import resolve_scalar
from imagesmith.hcl2.numbers import format_number
from imagesmith.hcl2.types import DYNAMIC, STRING, DynamicType
from imagesmith.hcl2.values import UNKNOWN, Value, object_val, string_val, tuple_val

_STR_TAG, _MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_BINARY_TAG = "tag:yaml.org,2002:binary"
_MERGE = "<<"


class _Decoder:
    """Builds values from PyYAML's event stream, with anchors and merges."""

    def __init__(self, events: list[Any]) -> None:
        import yaml  # on first use: PyYAML costs ~20 ms to import, and most templates never decode YAML

        self.yaml = yaml
        self.events = events
        self.pos = 0
        self.anchors: dict[str, Value] = {}

    def next(self) -> Any:
        event = self.events[self.pos]
        self.pos += 1
        return event

    def node(self) -> Value:
        event = self.next()
        if isinstance(event, self.yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise FunctionError(f'reference to undefined anchor "{event.anchor}"')
            return self.anchors[event.anchor]
        if isinstance(event, self.yaml.ScalarEvent):
            val = self.scalar(event)
        elif isinstance(event, self.yaml.SequenceStartEvent):
            val = self.sequence(event)
        else:
            val = self.mapping(event)
        if event.anchor:
            self.anchors[event.anchor] = val
        return val

    def scalar(self, event: Any) -> Value:
        tag = event.tag or ""
        if event.style and tag != _BINARY_TAG:  # quoted and block scalars are strings (None or "": plain)
            tag = _STR_TAG
        if tag.startswith("!!"):
            tag = "tag:self.yaml.org,2002:" + tag[2:]
        return resolve_scalar(tag, event.value)

    def sequence(self, event: Any) -> Value:
        if event.tag not in (None, "!", _SEQ_TAG):
            raise FunctionError(f"can't interpret sequence as {event.tag}")
        items = []
        while not isinstance(self.events[self.pos], self.yaml.SequenceEndEvent):
            items.append(self.node())
        self.pos += 1
        return tuple_val(items)

    def mapping(self, event: Any) -> Value:
        if event.tag not in (None, "!", _MAP_TAG):
            raise FunctionError(f"can't interpret mapping as {event.tag}")
        own: dict[str, Value] = {}
        merged: dict[str, Value] = {}
        while not isinstance(self.events[self.pos], self.yaml.MappingEndEvent):
            key_event = self.events[self.pos]
            key = self.key()
            value = self.node()
            if key == _MERGE and isinstance(key_event, self.yaml.ScalarEvent):
                merged.update(_merge_source(value))
            else:
                own[key] = value
        self.pos += 1
        return object_val({**merged, **own})

    def key(self) -> str:
        event = self.events[self.pos]
        if isinstance(event, (self.yaml.SequenceStartEvent, self.yaml.MappingStartEvent)):
            mark = event.start_mark
            raise FunctionError(
                f"on line {mark.line + 1}, column {mark.column + 1}: only strings are allowed as mapping keys"
            )
        val = self.node()
        if val.v is None:
            raise FunctionError("mapping key cannot be null")
        if isinstance(val.v, bool):
            return "true" if val.v else "false"
        if isinstance(val.v, Fraction):
            return format_number(val.v)
        if isinstance(val.v, str):
            return val.v
        raise FunctionError("only strings are allowed as mapping keys")


_KIND_NAMES = {bool: "bool", str: "string", Fraction: "number", float: "number", list: "tuple", dict: "object"}


def _merge_source(value: Value) -> dict[str, Value]:
    """The keys a ``<<`` brings: go-cty-yaml merges one mapping (an alias, usually), nothing else."""
    if isinstance(value.v, dict):
        return dict(value.v)
    kind = "null" if value.v is None else _KIND_NAMES.get(type(value.v), "value")
    raise FunctionError(f"cannot merge {kind} into mapping")


def _where(mark: Any) -> str:
    """go-yaml's "on line L, column C: " prefix: it counts lines from 0 and leaves out line 0."""
    return f"on line {mark.line}, column {mark.column + 1}: " if mark is not None and mark.line else ""


def decode_yaml(text: str) -> Value:
    """The value of the one YAML document in ``text``."""
    import yaml

    try:
        events = list(yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.MarkedYAMLError as exc:
        raise FunctionError(f"{_where(exc.problem_mark or exc.context_mark)}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FunctionError(str(exc)) from None
    starts = [i for i, e in enumerate(events) if isinstance(e, yaml.DocumentStartEvent)]
    if any(events[i].version not in (None, (1, 1)) for i in starts):
        raise FunctionError("found incompatible YAML document")
    if not starts:
        raise FunctionError("on line 1, column 1: missing start of document")
    if len(starts) > 1:
        raise FunctionError(f"{_where(events[starts[1]].start_mark)}unexpected extra content after value")
    decoder = _Decoder(events)
    decoder.pos = starts[0] + 1
    return decoder.node()


# -- encoding -----------------------------------------------------------------------------------

_BEST_WIDTH = 80
_ESCAPES = {"\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r", "\x1b": "e",
            '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P"}  # fmt: skip
_BREAKS = "\r\n\x85\u2028\u2029"


def _printable(ch: str) -> bool:
    """go-yaml's test, which counts nothing beyond U+FFFF as printable."""
    o = ord(ch)
    return o == 0x0A or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)


def _must_escape(ch: str) -> bool:
    return not _printable(ch) or ch in _BREAKS or ch in '"\\' or ch == "\ufeff"


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return "\\" + _ESCAPES[ch]
    o = ord(ch)
    return f"\\x{o:02X}" if o <= 0xFF else f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}"


def _double_quoted(text: str, column: int, indent: int, fold: bool) -> str:
    """go-yaml's double-quoted style: escapes, and lines folded at a space past column 80."""
    out = ['"']
    column += 1
    spaces = False
    for i, ch in enumerate(text):
        if _must_escape(ch):
            piece, spaces = _escape(ch), False
        elif ch == " ":
            if fold and not spaces and column > _BEST_WIDTH and 0 < i < len(text) - 1:
                piece = "\n" + " " * indent + ("\\" if text[i + 1] == " " else "")
                out.append(piece)
                column = indent + (piece.endswith("\\"))
                spaces = True
                continue
            piece, spaces = " ", True
        else:
            piece, spaces = ch, False
        out.append(piece)
        column += len(piece)
    out.append('"')
    return "".join(out)


def _literal_allowed(text: str) -> bool:
    if text.endswith(" ") or any(not _printable(c) and c != "\n" for c in text):
        return False
    return " \n" not in text and "\ufeff" not in text


def _literal(text: str, indent: int) -> str:
    """The ``|`` block, without the line break that ends its last line (the writer adds it)."""
    hint = "2" if text[:1] in (" ", "\n") else ""
    if not text.endswith("\n"):
        chomp = "-"
    elif len(text) == 1 or text[-2] == "\n":
        chomp = "+"
    else:
        chomp = ""
    body = "\n".join(" " * indent + line if line else "" for line in text.split("\n"))
    return f"|{hint}{chomp}\n{body.removesuffix(chr(10))}"


def _scalar(val: Value, column: int, indent: int, key: bool = False) -> tuple[str, bool]:
    """(text, plain) of a scalar value."""
    v = val.v
    if v is UNKNOWN or (isinstance(val.type, DynamicType) and v is not None):
        raise FunctionError("cannot serialize unknown values")
    if v is None:
        return "null", True
    if isinstance(v, bool):
        return ("true" if v else "false"), True
    if isinstance(v, float):
        return ("+.inf" if v > 0 else "-.inf"), True
    if isinstance(v, Fraction):
        return format_number(v), True
    assert isinstance(v, str)
    if "\n" in v and not key and _literal_allowed(v):
        return _literal(v, indent), False
    return _double_quoted(v, column, indent, fold=not key), False


def _block(val: Value, indent: int, column: int, lines: list[str], prefix: str) -> None:
    """Append ``val`` written at ``indent``; ``prefix`` is what its first line starts with."""
    v = val.v
    if v is UNKNOWN:
        raise FunctionError("cannot serialize unknown values")
    if isinstance(v, dict) and v:
        for n, (k, item) in enumerate(v.items()):
            head = (prefix if n == 0 else " " * indent) + _double_quoted(k, 0, 0, fold=False) + ":"
            _value_after_key(item, indent, head, lines)
    elif isinstance(v, list) and v:
        for n, item in enumerate(v):
            head = (prefix if n == 0 else " " * indent) + "- "
            _block(item, indent + 2, len(head), lines, head)
    elif isinstance(v, (dict, list)):
        lines.append(prefix + ("{}" if isinstance(v, dict) else "[]"))
    else:
        text, _ = _scalar(val, column, indent + (0 if prefix.endswith("- ") else 2))
        lines.append(prefix + text)


def _value_after_key(item: Value, indent: int, head: str, lines: list[str]) -> None:
    v = item.v
    if isinstance(v, dict) and v:
        lines.append(head)
        _block(item, indent + 2, indent + 2, lines, " " * (indent + 2))
    elif isinstance(v, list) and v:
        lines.append(head)
        _block(item, indent, indent, lines, " " * indent)  # a sequence under a key is not indented
    elif isinstance(v, (dict, list)):
        lines.append(head + (" {}" if isinstance(v, dict) else " []"))
    else:
        text, _ = _scalar(item, len(head) + 1, indent + 2)
        lines.append(f"{head} {text}")


def encode_yaml(val: Value) -> str:
    """The YAML document go-cty-yaml writes for a wholly known value."""
    if not val.is_wholly_known():
        raise FunctionError("cannot serialize unknown values")
    if not isinstance(val.v, (dict, list)):
        text, plain = _scalar(val, 0, 2)
        return text + "\n" + ("...\n" if plain else "")
    lines: list[str] = []
    _block(val, 0, 0, lines, "")
    return "\n".join(lines) + "\n"


def _yamlencode(args: list[Value]) -> Value:
    return string_val(encode_yaml(args[0]))


def _yamldecode(args: list[Value]) -> Value:
    return decode_yaml(args[0].as_str())


def _decode_type(args: list[Value]) -> object:
    return decode_yaml(args[0].as_str()).type if args[0].is_known else DYNAMIC


FUNCTIONS = {
    "yamlencode": make([Param("value", DYNAMIC, allow_null=True)], STRING, _yamlencode),
    "yamldecode": make([Param("src", STRING)], _decode_type, _yamldecode),  # type: ignore[arg-type]
}

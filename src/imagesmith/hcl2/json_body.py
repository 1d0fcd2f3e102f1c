"""HCL JSON syntax: bodies and expressions over a parsed JSON document (``json/spec.md``)."""

from __future__ import annotations

from dataclasses import dataclass

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import BodyContent, BodySchema, ContentAttribute, ContentBlock
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import _EVAL, EvalContext, evaluate
from imagesmith.hcl2.json_parser import JArray, JKeyword, JNode, JNumber, JObject, JProp, JString, parse_json
from imagesmith.hcl2.numbers import parse_number
from imagesmith.hcl2.parser import parse_template
from imagesmith.hcl2.source import Range, SourceFile
from imagesmith.hcl2.types import NUMBER, STRING
from imagesmith.hcl2.values import (
    FALSE,
    NULL_DYNAMIC,
    TRUE,
    Value,
    object_val,
    string_val,
    tuple_val,
    unknown_val,
)


@dataclass(eq=False)
class JSONExpr(ast.Expr):
    """An expression written in JSON: strings are templates unless evaluated without a context."""

    node: JNode

    @property
    def range(self) -> Range:  # type: ignore[override]
        return self.node.range


def eval_json(e: JSONExpr, ctx: EvalContext, diags: Diagnostics) -> Value:
    return _value(e.node, ctx, diags)


def _value(node: JNode, ctx: EvalContext, diags: Diagnostics) -> Value:
    if isinstance(node, JString):
        if not ctx.has_variables() and ctx.find_functions() is None:
            return string_val(node.value)
        start = node.range.start_pos  # positions inside the string, as Go HCL gives them
        source = SourceFile(node.range.filename, node.value, start.line, start.byte + 1, start.column + 1)
        expr, tdiags = parse_template(node.value, node.range.filename, source)
        diags.extend(tdiags)
        if tdiags.has_errors():
            return unknown_val(STRING)
        return evaluate(expr, ctx, diags)
    if isinstance(node, JNumber):
        num = parse_number(node.text)
        return Value(NUMBER, num) if num is not None else unknown_val(NUMBER)
    if isinstance(node, JKeyword):
        return {"true": TRUE, "false": FALSE}.get(node.word, NULL_DYNAMIC)
    if isinstance(node, JArray):
        return tuple_val(_value(item, ctx, diags) for item in node.items)
    assert isinstance(node, JObject)
    attrs: dict[str, Value] = {}
    seen: dict[str, JProp] = {}
    for prop in node.props:
        key = _value(JString(prop.name_range, prop.name), ctx, diags)
        try:
            name = convert(key, STRING).as_str()
        except (ConversionError, AssertionError):
            continue
        if name in seen:
            diags.add("Duplicate object attribute",
                      f'An attribute named "{name}" was already defined at {seen[name].name_range}.', prop.name_range)
            continue
        seen[name] = prop
        attrs[name] = _value(prop.value, ctx, diags)
    return object_val(attrs)


_EVAL[JSONExpr] = eval_json


class JSONBody:
    """A body given as a JSON object (or an array of objects)."""

    def __init__(self, node: JNode) -> None:
        self.node = node

    def missing_item_range(self) -> Range:
        if isinstance(self.node, JObject):
            return self.node.open_range
        return self.node.range

    def _props(self, diags: Diagnostics) -> list[JProp]:
        objs = self.node.items if isinstance(self.node, JArray) else [self.node]
        props: list[JProp] = []
        for obj in objs:
            if not isinstance(obj, JObject):
                diags.add("Incorrect JSON value type", "A JSON object is required here, setting the arguments for this "
                          "block.", obj.range)
                continue
            props.extend(p for p in obj.props if p.name != "//")
        return props

    def content(self, schema: BodySchema, partial: bool = False) -> tuple[BodyContent, Diagnostics]:
        diags = Diagnostics()
        out = BodyContent(missing_item_range=self.missing_item_range())
        attr_names = {a.name: a for a in schema.attributes}
        block_types = {b.type: b for b in schema.blocks}
        for prop in self._props(diags):
            if prop.name in attr_names:
                if prop.name in out.attributes:
                    diags.add("Duplicate argument", f'The argument "{prop.name}" was already set at '
                              f"{out.attributes[prop.name].name_range}.", prop.name_range)
                    continue
                out.attributes[prop.name] = ContentAttribute(prop.name, JSONExpr(prop.value),
                                                             prop.name_range.to(prop.value.range), prop.name_range)
            elif prop.name in block_types:
                bs = block_types[prop.name]
                self._blocks(prop, prop.value, list(bs.labels), [], [], out, diags)
            elif not partial:
                diags.add("Extraneous JSON object property", f'No argument or block type is named "{prop.name}".',
                          prop.name_range)
        for a in schema.attributes:
            if a.required and a.name not in out.attributes:
                diags.add("Missing required argument",
                          f'The argument "{a.name}" is required, but no definition was found.',
                          self.missing_item_range())
        return out, diags

    def _blocks(self, prop: JProp, node: JNode, labels_left: list[str], labels: list[str], ranges: list[Range],
                out: BodyContent, diags: Diagnostics) -> None:
        if labels_left:
            objs = node.items if isinstance(node, JArray) else [node]
            for obj in objs:
                if not isinstance(obj, JObject):
                    diags.add("Incorrect JSON value type", f"A JSON object is required here, whose keys represent the "
                              f"{labels_left[0]} labels.", obj.range)
                    continue
                for p in obj.props:
                    self._blocks(prop, p.value, labels_left[1:], [*labels, p.name], [*ranges, p.name_range], out, diags)
            return
        bodies = node.items if isinstance(node, JArray) else [node]
        for body in bodies:
            if not isinstance(body, JObject):
                diags.add("Incorrect JSON value type", "A JSON object is required here, setting the arguments for "
                          "this block.", body.range)
                continue
            out.blocks.append(ContentBlock(prop.name, labels, JSONBody(body), prop.name_range, prop.name_range,
                                           ranges))

    def just_attributes(self) -> tuple[dict[str, ContentAttribute], Diagnostics]:
        diags = Diagnostics()
        attrs: dict[str, ContentAttribute] = {}
        if not isinstance(self.node, JObject):
            diags.add("Incorrect JSON value type", "A JSON object is required here, setting the arguments.",
                      self.node.range)
            return attrs, diags
        for prop in self._props(diags):
            if prop.name in attrs:
                diags.add("Duplicate argument", f'The argument "{prop.name}" was already set at '
                          f"{attrs[prop.name].name_range}.", prop.name_range)
                continue
            attrs[prop.name] = ContentAttribute(prop.name, JSONExpr(prop.value), prop.name_range.to(prop.value.range),
                                                prop.name_range)
        return attrs, diags


def parse_json_config(text: str | bytes, filename: str) -> tuple[JSONBody | None, Diagnostics]:
    """Parse an HCL JSON file: its root must be an object."""
    node, _source, diags = parse_json(text, filename)
    if node is None:
        return None, diags
    if not isinstance(node, JObject):
        diags.add("Root value must be object", "The root value in a JSON-based configuration must be either a JSON "
                  "object or a JSON array of objects.", node.range)
    return JSONBody(node), diags

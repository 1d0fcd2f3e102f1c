"""An ``hcldec``-compatible decoder: a spec file (``cmd/hcldec/spec-format.md``) turns a body into a value.

Used as the entry point for HCL's implementation-agnostic specsuite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import AttributeSchema, BlockSchema, BodySchema, HCLBody, NativeBody
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.json_body import parse_json_config
from imagesmith.hcl2.parser import parse_config
from imagesmith.hcl2.typeexpr import get_type
from imagesmith.hcl2.types import DYNAMIC, ListType, MapType, ObjectType, SetType, TupleType, Type
from imagesmith.hcl2.values import Value, null_val, object_val, set_val, tuple_val


@dataclass
class Spec:
    kind: str  # object, array, attr, block, block_list, block_set, block_map, literal, default
    name: str = ""
    type: Type = DYNAMIC
    required: bool = False
    block_type: str = ""
    labels: list[str] = field(default_factory=list)
    children: list[Spec] = field(default_factory=list)
    literal: Value | None = None


_SPEC_SCHEMA = BodySchema(blocks=[BlockSchema(k, ("name",)) for k in (
    "object", "array", "attr", "block", "block_list", "block_set", "block_map", "literal", "default")]
    + [BlockSchema(k) for k in ("object", "array", "block", "block_list", "block_set", "block_map", "literal",
                                 "default")])


def _read_spec(kind: str, label: str, body: ast.Body, diags: Diagnostics) -> Spec:
    spec = Spec(kind, label, block_type=label)
    for name, attr in body.attributes.items():
        if name == "type":
            spec.type = get_type(attr.expr, diags)
        elif name in ("name", "block_type"):
            val = evaluate(attr.expr, None, diags)
            setattr(spec, name if name == "block_type" else "name", val.as_str())
            if name == "name":
                spec.name = val.as_str()
        elif name == "required":
            spec.required = bool(evaluate(attr.expr, None, diags).v)
        elif name == "labels":
            spec.labels = [v.as_str() for v in evaluate(attr.expr, None, diags).elements()]
        elif name == "value":
            spec.literal = evaluate(attr.expr, EvalContext({}, {}), diags)
    for block in body.blocks:
        spec.children.append(_read_spec(block.type, block.labels[0] if block.labels else "", block.body, diags))
    return spec


def load_spec(path: str | Path) -> tuple[Spec | None, dict[str, Value], Diagnostics]:
    """Read a ``.hcldec`` spec file: its one root spec and its ``variables``."""
    body, diags = parse_config(Path(path).read_bytes(), str(path))
    variables: dict[str, Value] = {}
    root: Spec | None = None
    for block in body.blocks:
        if block.type == "variables":
            for name, attr in block.body.attributes.items():
                variables[name] = evaluate(attr.expr, None, diags)
        else:
            root = _read_spec(block.type, block.labels[0] if block.labels else "", block.body, diags)
    return root, variables, diags


def implied_type(spec: Spec) -> Type:
    if spec.kind == "attr":
        return spec.type
    if spec.kind == "object":
        return ObjectType({c.name: implied_type(c) for c in spec.children})
    if spec.kind == "array":
        return TupleType([implied_type(c) for c in spec.children])
    inner = implied_type(spec.children[0]) if spec.children else DYNAMIC
    if spec.kind == "block":
        return inner
    if spec.kind == "block_list":
        return ListType(inner)
    if spec.kind == "block_set":
        return SetType(inner)
    if spec.kind == "block_map":
        ty = inner
        for _ in spec.labels:
            ty = MapType(ty)
        return ty
    if spec.kind == "literal" and spec.literal is not None:
        return spec.literal.type
    return DYNAMIC


def _schema(spec: Spec) -> BodySchema:
    schema = BodySchema()
    specs = spec.children if spec.kind in ("object", "array", "default") else [spec]
    for child in specs:
        if child.kind == "attr":
            schema.attributes.append(AttributeSchema(child.name, child.required))
        elif child.kind.startswith("block"):
            schema.blocks.append(BlockSchema(child.block_type or child.name, tuple(child.labels)))
        elif child.kind in ("object", "array", "default"):
            sub = _schema(child)
            schema.attributes.extend(sub.attributes)
            schema.blocks.extend(sub.blocks)
    return schema


def decode(spec: Spec, body: HCLBody, ctx: EvalContext, diags: Diagnostics) -> Value:
    """Decode ``body`` per ``spec`` (checking the body's whole content against the spec's schema)."""
    content, cdiags = body.content(_schema(spec))
    diags.extend(cdiags)
    return _decode(spec, body, content, ctx, diags)


def _decode(spec: Spec, body: HCLBody, content: object, ctx: EvalContext, diags: Diagnostics) -> Value:
    from imagesmith.hcl2.body import BodyContent

    assert isinstance(content, BodyContent)
    if spec.kind == "literal":
        return spec.literal if spec.literal is not None else null_val(DYNAMIC)
    if spec.kind == "object":
        return object_val({c.name: _decode(c, body, content, ctx, diags) for c in spec.children})
    if spec.kind == "array":
        return tuple_val(_decode(c, body, content, ctx, diags) for c in spec.children)
    if spec.kind == "default":
        for child in spec.children:
            val = _decode(child, body, content, ctx, diags)
            if not val.is_null:
                return val
        return null_val(implied_type(spec))
    if spec.kind == "attr":
        attr = content.attributes.get(spec.name)
        if attr is None:
            return null_val(spec.type)
        val = evaluate(attr.expr, ctx, diags)
        try:
            return convert(val, spec.type)
        except ConversionError as exc:
            diags.add("Incorrect attribute value type", f'Inappropriate value for attribute "{spec.name}": {exc}.',
                      attr.expr.range)
            return null_val(spec.type)
    return _decode_blocks(spec, content, ctx, diags)


def _decode_blocks(spec: Spec, content: object, ctx: EvalContext, diags: Diagnostics) -> Value:
    from imagesmith.hcl2.body import BodyContent

    assert isinstance(content, BodyContent)
    btype = spec.block_type or spec.name
    blocks = [b for b in content.blocks if b.type == btype]
    inner = spec.children[0] if spec.children else Spec("object")
    ity = implied_type(inner)
    if spec.kind == "block":
        if not blocks:
            if spec.required:
                diags.add("Missing required block", f'A block of type "{btype}" is required here.',
                          content.missing_item_range)
            return null_val(ity)
        return decode(inner, blocks[0].body, ctx, diags)
    vals = [decode(inner, b.body, ctx, diags) for b in blocks]
    if spec.kind == "block_list":
        return Value(ListType(ity), vals)
    if spec.kind == "block_set":
        return set_val(vals, ity)
    out: dict[str, Value] = {}
    for b, v in zip(blocks, vals, strict=True):
        out[b.labels[0] if b.labels else ""] = v
    return Value(MapType(ity), dict(sorted(out.items())))


def decode_file(spec_path: str | Path, input_path: str | Path) -> tuple[Value | None, Diagnostics]:
    """What ``hcldec --spec=spec_path input_path`` computes: the value, and every diagnostic."""
    spec, variables, diags = load_spec(spec_path)
    if spec is None or diags.has_errors():
        return None, diags
    data = Path(input_path).read_bytes()
    body: HCLBody | None
    if str(input_path).endswith(".json"):
        body, idiags = parse_json_config(data, str(input_path))
    else:
        native, idiags = parse_config(data, str(input_path))
        body = NativeBody(native)
    if body is None or idiags.has_errors():
        return None, idiags
    from imagesmith.hcl2.functions import standard_functions

    ctx = EvalContext(dict(variables), standard_functions())
    out = Diagnostics(idiags)
    val = decode(spec, body, ctx, out)
    return val, out


_ = _SPEC_SCHEMA

"""``dynamic`` blocks (HCL's ``ext/dynblock``): a body wrapper that expands them into real blocks.

``dynamic "tag" { for_each = ..., iterator = t, labels = [...], content { ... } }`` becomes one ``tag``
block per element; expressions inside see ``t.key`` and ``t.value`` (``tag.*`` without ``iterator``).
Errors from an expansion name the element they come from.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import (
    AttributeSchema,
    BlockSchema,
    BodyContent,
    BodySchema,
    ContentAttribute,
    ContentBlock,
    HCLBody,
)
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import _EVAL, EvalContext, evaluate
from imagesmith.hcl2.evaluator_for import iterate
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.types import STRING, ListType, MapType, ObjectType, SetType, TupleType
from imagesmith.hcl2.values import Value, object_val

DYNAMIC_SCHEMA = BodySchema(
    [AttributeSchema("for_each", True), AttributeSchema("iterator"), AttributeSchema("labels")],
    [BlockSchema("content")],
)


@dataclass(eq=False)
class BoundExpr(ast.Expr):
    """An expression evaluated with extra names in scope (a dynamic block's iterator)."""

    expr: ast.Expr
    names: dict[str, Value]
    element: str

    @property
    def range(self) -> Range:  # type: ignore[override]
        return self.expr.range


def _eval_bound(e: BoundExpr, ctx: EvalContext, diags: Diagnostics) -> Value:
    mark = len(diags)
    val = evaluate(e.expr, ctx.child(e.names), diags)
    for d in diags[mark:]:
        d.detail = f"{d.detail} (in {e.element})" if d.detail else f"In {e.element}."
    return val


_EVAL[BoundExpr] = _eval_bound


class _BoundBody:
    """A body whose expressions see extra names."""

    def __init__(self, inner: HCLBody, names: dict[str, Value], element: str) -> None:
        self.inner, self.names, self.element = inner, names, element

    def missing_item_range(self) -> Range:
        return self.inner.missing_item_range()

    def _bind(self, attrs: dict[str, ContentAttribute]) -> dict[str, ContentAttribute]:
        return {n: ContentAttribute(n, BoundExpr(a.expr, self.names, self.element), a.range, a.name_range)
                for n, a in attrs.items()}

    def content(self, schema: BodySchema, partial: bool = False) -> tuple[BodyContent, Diagnostics]:
        content, diags = self.inner.content(schema, partial)
        content.attributes = self._bind(content.attributes)
        content.blocks = [ContentBlock(b.type, b.labels, _BoundBody(b.body, self.names, self.element), b.def_range,
                                       b.type_range, b.label_ranges) for b in content.blocks]
        return content, diags

    def just_attributes(self) -> tuple[dict[str, ContentAttribute], Diagnostics]:
        attrs, diags = self.inner.just_attributes()
        return self._bind(attrs), diags


class DynamicBody:
    """``inner`` with its ``dynamic`` blocks (at any depth) expanded, evaluated in ``ctx``."""

    def __init__(self, inner: HCLBody, ctx: EvalContext) -> None:
        self.inner, self.ctx = inner, ctx

    def missing_item_range(self) -> Range:
        return self.inner.missing_item_range()

    def just_attributes(self) -> tuple[dict[str, ContentAttribute], Diagnostics]:
        return self.inner.just_attributes()

    def content(self, schema: BodySchema, partial: bool = False) -> tuple[BodyContent, Diagnostics]:
        wanted = {b.type: b for b in schema.blocks}
        ext = BodySchema(schema.attributes, [*schema.blocks, BlockSchema("dynamic", ("type",))])
        content, diags = self.inner.content(ext, partial)
        blocks: list[ContentBlock] = []
        for block in content.blocks:
            if block.type != "dynamic":
                blocks.append(self._wrap(block, self.ctx))
            elif block.labels[0] not in wanted:
                if not partial:
                    diags.add("Unsupported block type", f'Blocks of type "{block.labels[0]}" are not expected here.',
                              block.label_ranges[0] if block.label_ranges else block.def_range)
            else:
                blocks.extend(self._expand(block, wanted[block.labels[0]], diags))
        content.blocks = blocks
        return content, diags

    @staticmethod
    def _wrap(block: ContentBlock, ctx: EvalContext) -> ContentBlock:
        return ContentBlock(block.type, block.labels, DynamicBody(block.body, ctx), block.def_range,
                            block.type_range, block.label_ranges)

    def _expand(self, block: ContentBlock, target: BlockSchema, diags: Diagnostics) -> list[ContentBlock]:
        spec, sdiags = block.body.content(DYNAMIC_SCHEMA)
        diags.extend(sdiags)
        if sdiags.has_errors():
            return []
        label = block.labels[0]
        contents = spec.blocks
        if len(contents) != 1:
            diags.add("Missing content block" if not contents else "Duplicate content block",
                      f'A dynamic "{label}" block must have exactly one nested "content" block.', block.def_range)
            return []
        iterator = label
        if "iterator" in spec.attributes:
            expr = spec.attributes["iterator"].expr
            if isinstance(expr, ast.ScopeTraversal) and len(expr.traversal) == 1:
                iterator = expr.traversal[0].name  # type: ignore[union-attr]
            else:
                diags.add("Invalid dynamic iterator name", "Dynamic iterator must be a single variable name.",
                          expr.range)
                return []
        for_each_expr = spec.attributes["for_each"].expr
        coll = evaluate(for_each_expr, self.ctx, diags)
        if coll.is_null or not isinstance(coll.type, (ListType, SetType, TupleType, MapType, ObjectType)):
            what = "null" if coll.is_null else coll.type.friendly_name()
            diags.add("Invalid dynamic for_each value", f"Cannot use a {what} value in for_each. An iterable "
                      "collection is required.", for_each_expr.range)
            return []
        if not coll.is_known:
            return []
        out: list[ContentBlock] = []
        for key, value in iterate(coll):
            element = f'dynamic "{label}" element {_show(key)}'
            names = {iterator: object_val({"key": key, "value": value})}
            child = self.ctx.child(names)
            labels = self._labels(spec.attributes.get("labels"), target, child, element, block, diags)
            if labels is None:
                continue
            body = DynamicBody(_BoundBody(contents[0].body, names, element), child)
            out.append(ContentBlock(label, labels, body, block.def_range, block.type_range, block.label_ranges))
        return out

    @staticmethod
    def _labels(attr: ContentAttribute | None, target: BlockSchema, ctx: EvalContext, element: str,
                block: ContentBlock, diags: Diagnostics) -> list[str] | None:
        if attr is None:
            if target.labels:
                diags.add("Missing dynamic block labels", f"The {element} needs labels = [...] with "
                          f"{len(target.labels)} label(s): {', '.join(target.labels)}.", block.def_range)
                return None
            return []
        val = evaluate(attr.expr, ctx, diags)
        try:
            labels = [e.as_str() for e in convert(val, ListType(STRING)).elements()]
        except (ConversionError, AssertionError):
            diags.add("Invalid dynamic block label", f"The labels of {element} must be a list of strings.",
                      attr.expr.range)
            return None
        if len(labels) != len(target.labels):
            diags.add("Incorrect number of labels", f"The {element} has {len(labels)} label(s); "
                      f"{len(target.labels)} are expected.", attr.expr.range)
            return None
        return labels


def _show(key: Value) -> str:
    from imagesmith.hcl2.functions.jsonenc import encode_json

    try:
        return encode_json(key)
    except Exception:  # an unknown key: say so rather than fail while reporting
        return "(unknown)"

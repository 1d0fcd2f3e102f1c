"""Syntax tree of HCL native syntax: bodies, attributes, blocks and expressions, each with its range."""

from __future__ import annotations

from dataclasses import dataclass, field

from imagesmith.hcl2.source import Range
from imagesmith.hcl2.values import Value


# -- traversals: var.a[0].b
@dataclass(eq=False)
class TraverseRoot:
    name: str
    range: Range


@dataclass(eq=False)
class TraverseAttr:
    name: str
    range: Range


@dataclass(eq=False)
class TraverseIndex:
    key: Value
    range: Range


Traverser = TraverseRoot | TraverseAttr | TraverseIndex


# -- expressions
class Expr:
    """Base of expression nodes; ``range`` spans the whole expression."""

    range: Range


@dataclass(eq=False)
class LiteralValue(Expr):
    value: Value
    range: Range


@dataclass(eq=False)
class ScopeTraversal(Expr):
    traversal: list[Traverser]
    range: Range


@dataclass(eq=False)
class RelativeTraversal(Expr):
    source: Expr
    traversal: list[Traverser]
    range: Range


@dataclass(eq=False)
class FunctionCall(Expr):
    name: str
    args: list[Expr]
    expand_final: bool
    name_range: Range
    open_paren_range: Range
    close_paren_range: Range

    @property
    def range(self) -> Range:  # type: ignore[override]
        return self.name_range.to(self.close_paren_range)


@dataclass(eq=False)
class Conditional(Expr):
    condition: Expr
    true_result: Expr
    false_result: Expr
    range: Range


@dataclass(eq=False)
class Index(Expr):
    collection: Expr
    key: Expr
    range: Range
    bracket_range: Range


@dataclass(eq=False)
class TupleCons(Expr):
    exprs: list[Expr]
    range: Range


@dataclass(eq=False)
class ObjectConsKey(Expr):
    wrapped: Expr
    force_non_literal: bool

    @property
    def range(self) -> Range:  # type: ignore[override]
        return self.wrapped.range

    def as_keyword(self) -> str | None:
        """The bare identifier written as the key, if it is one (``{ a = 1 }``)."""
        w = self.wrapped
        if self.force_non_literal:
            return None
        if isinstance(w, LiteralValue):
            # true, false and null written as keys are names, as in traversal syntax
            text = w.range.source.text[w.range.start : w.range.end]
            return text if text in ("true", "false", "null") else None
        if not isinstance(w, ScopeTraversal) or len(w.traversal) != 1:
            return None
        return w.traversal[0].name  # type: ignore[union-attr]


@dataclass(eq=False)
class ObjectCons(Expr):
    items: list[tuple[ObjectConsKey, Expr]]
    range: Range


@dataclass(eq=False)
class For(Expr):
    key_var: str
    val_var: str
    coll: Expr
    key_expr: Expr | None
    val_expr: Expr
    cond: Expr | None
    group: bool
    range: Range
    open_range: Range
    close_range: Range


@dataclass(eq=False)
class AnonSymbol(Expr):
    range: Range


@dataclass(eq=False)
class Splat(Expr):
    source: Expr
    each: Expr
    item: AnonSymbol
    range: Range
    marker_range: Range


@dataclass(eq=False)
class BinaryOp(Expr):
    lhs: Expr
    op: str
    rhs: Expr
    range: Range


@dataclass(eq=False)
class UnaryOp(Expr):
    op: str
    val: Expr
    range: Range
    symbol_range: Range


@dataclass(eq=False)
class Template(Expr):
    parts: list[Expr]
    range: Range

    def is_string_literal(self) -> bool:
        return len(self.parts) == 1 and isinstance(self.parts[0], LiteralValue)


@dataclass(eq=False)
class TemplateJoin(Expr):
    tuple: For

    @property
    def range(self) -> Range:  # type: ignore[override]
        return self.tuple.range


@dataclass(eq=False)
class TemplateWrap(Expr):
    wrapped: Expr
    range: Range


@dataclass(eq=False)
class Parentheses(Expr):
    expr: Expr
    range: Range


# -- structure
@dataclass(eq=False)
class Attribute:
    name: str
    expr: Expr
    range: Range
    name_range: Range
    equals_range: Range


@dataclass(eq=False)
class Body:
    attributes: dict[str, Attribute]
    blocks: list[Block]
    range: Range
    end_range: Range


@dataclass(eq=False)
class Block:
    type: str
    labels: list[str]
    body: Body
    type_range: Range
    label_ranges: list[Range] = field(default_factory=list)
    open_brace_range: Range | None = None
    close_brace_range: Range | None = None

    @property
    def def_range(self) -> Range:
        """The block header: type and labels, as HCL's DefRange."""
        last = self.label_ranges[-1] if self.label_ranges else self.type_range
        return self.type_range.to(last)


def walk(expr: Expr) -> list[Expr]:
    """``expr`` and every expression inside it, parents first."""
    out: list[Expr] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        out.append(e)
        stack.extend(reversed(children(e)))
    return out


def children(e: Expr) -> list[Expr]:
    """The direct sub-expressions of ``e``."""
    if isinstance(e, RelativeTraversal):
        return [e.source]
    if isinstance(e, FunctionCall):
        return list(e.args)
    if isinstance(e, Conditional):
        return [e.condition, e.true_result, e.false_result]
    if isinstance(e, Index):
        return [e.collection, e.key]
    if isinstance(e, TupleCons):
        return list(e.exprs)
    if isinstance(e, ObjectCons):
        return [x for kv in e.items for x in kv]
    if isinstance(e, ObjectConsKey):
        return [e.wrapped]
    if isinstance(e, For):
        return [x for x in (e.coll, e.key_expr, e.val_expr, e.cond) if x is not None]
    if isinstance(e, Splat):
        return [e.source, e.each]
    if isinstance(e, BinaryOp):
        return [e.lhs, e.rhs]
    if isinstance(e, UnaryOp):
        return [e.val]
    if isinstance(e, Template):
        return list(e.parts)
    if isinstance(e, TemplateJoin):
        return [e.tuple]
    if isinstance(e, (TemplateWrap,)):
        return [e.wrapped]
    if isinstance(e, Parentheses):
        return [e.expr]
    return []

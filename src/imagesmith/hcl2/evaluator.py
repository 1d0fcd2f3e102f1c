"""Evaluating expressions against a context of variables and functions, as hclsyntax does.

``evaluate(expr, ctx, diags)`` always returns a value: on an error it records a diagnostic and
returns an unknown value so evaluation of the rest can go on and report everything at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from imagesmith.hcl2 import ast
from imagesmith.hcl2.convert import ConversionError, convert, unify
from imagesmith.hcl2.diagnostics import Diagnostic, Diagnostics
from imagesmith.hcl2.didyoumean import suggest
from imagesmith.hcl2.function import Function
from imagesmith.hcl2.operators import OperationError, apply_binary, apply_unary, operand_type, result_type
from imagesmith.hcl2.traversal import TraversalError, get_attr, index
from imagesmith.hcl2.types import BOOL, DYNAMIC, STRING, ListType, SetType, TupleType
from imagesmith.hcl2.values import DYNAMIC_VAL, NULL_DYNAMIC, Value, object_val, tuple_val, unknown_val


@dataclass
class EvalContext:
    """Variables and functions visible to an expression; ``None`` means "not allowed here"."""

    variables: dict[str, Value] | None = None
    functions: Mapping[str, Function] | None = None
    parent: EvalContext | None = None
    anon: dict[int, Value] = field(default_factory=dict)

    def child(self, variables: dict[str, Value]) -> EvalContext:
        return EvalContext(variables, None, self)

    def lookup(self, name: str) -> Value | None:
        ctx: EvalContext | None = self
        while ctx is not None:
            if ctx.variables is not None and name in ctx.variables:
                return ctx.variables[name]
            ctx = ctx.parent
        return None

    def has_variables(self) -> bool:
        ctx: EvalContext | None = self
        while ctx is not None:
            if ctx.variables is not None:
                return True
            ctx = ctx.parent
        return False

    def all_names(self) -> list[str]:
        names: list[str] = []
        ctx: EvalContext | None = self
        while ctx is not None:
            names.extend(ctx.variables or {})
            ctx = ctx.parent
        return names

    def find_functions(self) -> Mapping[str, Function] | None:
        ctx: EvalContext | None = self
        while ctx is not None:
            if ctx.functions is not None:
                return ctx.functions
            ctx = ctx.parent
        return None

    def anon_value(self, key: int) -> Value | None:
        ctx: EvalContext | None = self
        while ctx is not None:
            if key in ctx.anon:
                return ctx.anon[key]
            ctx = ctx.parent
        return None


def evaluate(expr: ast.Expr, ctx: EvalContext | None, diags: Diagnostics) -> Value:
    """The value of ``expr``; problems go to ``diags``."""
    return _EVAL[type(expr)](expr, ctx or EvalContext(), diags)


def _literal(e: ast.LiteralValue, ctx: EvalContext, diags: Diagnostics) -> Value:
    return e.value


def _scope_traversal(e: ast.ScopeTraversal, ctx: EvalContext, diags: Diagnostics) -> Value:
    root = e.traversal[0]
    assert isinstance(root, ast.TraverseRoot)
    if not ctx.has_variables():
        diags.add("Variables not allowed", "Variables may not be used here.", root.range)
        return DYNAMIC_VAL
    val = ctx.lookup(root.name)
    if val is None:
        hint = suggest(root.name, ctx.all_names())
        hint = f' Did you mean "{hint}"?' if hint else ""
        diags.add("Unknown variable", f'There is no variable named "{root.name}".{hint}', root.range)
        return DYNAMIC_VAL
    return apply_traversal(val, e.traversal[1:], diags)


def apply_traversal(val: Value, steps: list[ast.Traverser], diags: Diagnostics) -> Value:
    for step in steps:
        try:
            if isinstance(step, ast.TraverseAttr):
                val = get_attr(val, step.name)
            elif isinstance(step, ast.TraverseIndex):
                val = index(val, step.key)
        except TraversalError as exc:
            diags.append(exc.diagnostic(step.range))
            return DYNAMIC_VAL
    return val


def _relative(e: ast.RelativeTraversal, ctx: EvalContext, diags: Diagnostics) -> Value:
    return apply_traversal(evaluate(e.source, ctx, diags), e.traversal, diags)


def _anon(e: ast.AnonSymbol, ctx: EvalContext, diags: Diagnostics) -> Value:
    val = ctx.anon_value(id(e))
    return DYNAMIC_VAL if val is None else val


def _parens(e: ast.Parentheses, ctx: EvalContext, diags: Diagnostics) -> Value:
    return evaluate(e.expr, ctx, diags)


def _binary(e: ast.BinaryOp, ctx: EvalContext, diags: Diagnostics) -> Value:
    want = operand_type(e.op)
    operands = []
    failed = False
    for side, sub in (("left", e.lhs), ("right", e.rhs)):
        val = evaluate(sub, ctx, diags)
        try:
            operands.append(convert(val, want))
        except ConversionError as exc:
            diags.add("Invalid operand", f"Unsuitable value for {side} operand: {exc}.", sub.range, e.range)
            failed = True
    if failed:
        return unknown_val(result_type(e.op))
    try:
        return apply_binary(e.op, operands[0], operands[1])
    except OperationError as exc:
        diags.add("Operation failed", f"Error during operation: {exc}.", e.range)
        return unknown_val(result_type(e.op))


def _unary(e: ast.UnaryOp, ctx: EvalContext, diags: Diagnostics) -> Value:
    val = evaluate(e.val, ctx, diags)
    try:
        val = convert(val, operand_type(e.op))
        return apply_unary(e.op, val)
    except ConversionError as exc:
        diags.add("Invalid operand", f"Unsuitable value for unary operand: {exc}.", e.val.range, e.range)
    except OperationError as exc:
        diags.add("Operation failed", f"Error during operation: {exc}.", e.range)
    return unknown_val(result_type(e.op))


def _conditional(e: ast.Conditional, ctx: EvalContext, diags: Diagnostics) -> Value:
    cond = evaluate(e.condition, ctx, diags)
    true_v = evaluate(e.true_result, ctx, diags)
    false_v = evaluate(e.false_result, ctx, diags)
    if true_v.raw_equals(NULL_DYNAMIC):
        rtype = false_v.type
    elif false_v.raw_equals(NULL_DYNAMIC):
        rtype = true_v.type
    else:
        unified = unify([true_v.type, false_v.type])
        if unified is None:
            diags.add("Inconsistent conditional result types",
                      f"The true and false result expressions must have consistent types. The 'true' value is "
                      f"{true_v.type.friendly_name()}, but the 'false' value is {false_v.type.friendly_name()}.",
                      e.true_result.range.to(e.false_result.range), e.range)
            return DYNAMIC_VAL
        rtype = unified
    if cond.is_null:
        diags.add("Null condition", "The condition value is null. Conditions must either be true or false.",
                  e.condition.range, e.range)
        return unknown_val(rtype)
    try:
        cond = convert(cond, BOOL)
    except ConversionError as exc:
        diags.add("Incorrect condition type", f"The condition expression must be of type bool: {exc}.",
                  e.condition.range, e.range)
        return unknown_val(rtype)
    if not cond.is_known:
        return unknown_val(rtype).with_marks(cond.marks)
    chosen, sub = (true_v, e.true_result) if cond.as_bool() else (false_v, e.false_result)
    try:
        return convert(chosen, rtype).with_marks(cond.marks)
    except ConversionError as exc:
        which = "true" if cond.as_bool() else "false"
        diags.add("Inconsistent conditional result types", f"The {which} result value has the wrong type: {exc}.",
                  sub.range, e.range)
        return unknown_val(rtype)


def _index(e: ast.Index, ctx: EvalContext, diags: Diagnostics) -> Value:
    coll = evaluate(e.collection, ctx, diags)
    key = evaluate(e.key, ctx, diags)
    try:
        return index(coll, key)
    except TraversalError as exc:
        diags.append(Diagnostic(exc.summary, exc.detail, e.bracket_range, e.range))
        return DYNAMIC_VAL


def _tuple(e: ast.TupleCons, ctx: EvalContext, diags: Diagnostics) -> Value:
    return tuple_val(evaluate(x, ctx, diags) for x in e.exprs)


def _object(e: ast.ObjectCons, ctx: EvalContext, diags: Diagnostics) -> Value:
    attrs: dict[str, Value] = {}
    marks: frozenset[str] = frozenset()
    known = True
    for key_expr, val_expr in e.items:
        val = evaluate(val_expr, ctx, diags)
        word = key_expr.as_keyword()
        if word is not None:
            attrs[word] = val
            continue
        key = evaluate(key_expr.wrapped, ctx, diags)
        if key.is_null:
            diags.add("Null value as key", "Can't use a null value as a key.", key_expr.range, e.range)
            known = False
            continue
        try:
            key = convert(key, STRING)
        except ConversionError as exc:
            diags.add("Incorrect key type", f"Can't use this value as a key: {exc}.", key_expr.range, e.range)
            known = False
            continue
        marks |= key.marks
        if not key.is_known:
            known = False
            continue
        attrs[key.as_str()] = val
    if not known:
        return DYNAMIC_VAL.with_marks(marks)
    return object_val(attrs).with_marks(marks)


def _template_wrap(e: ast.TemplateWrap, ctx: EvalContext, diags: Diagnostics) -> Value:
    return evaluate(e.wrapped, ctx, diags)


def _splat(e: ast.Splat, ctx: EvalContext, diags: Diagnostics) -> Value:
    source = evaluate(e.source, ctx, diags)
    if source.is_null:
        return tuple_val([])
    if not source.is_known:
        return DYNAMIC_VAL.with_marks(source.marks)
    upgraded = False
    if not isinstance(source.type, (ListType, SetType, TupleType)):
        source = tuple_val([source])
        upgraded = True
    results = []
    for item in source.elements():
        child = EvalContext(None, None, ctx, {id(e.item): item})
        results.append(evaluate(e.each, child, diags))
    marks = source.marks
    if isinstance(source.type, (ListType, SetType)) and not upgraded:
        if not results:
            return Value(ListType(DYNAMIC), []).with_marks(marks)
        ety = unify([r.type for r in results])
        if ety is not None:
            try:
                return Value(ListType(ety), [convert(r, ety) for r in results]).with_marks(marks)
            except ConversionError:
                pass
    return tuple_val(results).with_marks(marks)


_EVAL: dict[type, Callable[..., Value]] = {
    ast.LiteralValue: _literal,
    ast.ScopeTraversal: _scope_traversal,
    ast.RelativeTraversal: _relative,
    ast.AnonSymbol: _anon,
    ast.Parentheses: _parens,
    ast.BinaryOp: _binary,
    ast.UnaryOp: _unary,
    ast.Conditional: _conditional,
    ast.Index: _index,
    ast.TupleCons: _tuple,
    ast.ObjectCons: _object,
    ast.TemplateWrap: _template_wrap,
    ast.Splat: _splat,
}
_ = DYNAMIC

# These modules add their node types to _EVAL (they need evaluate, so they come last).
from imagesmith.hcl2 import evaluator_calls, evaluator_for  # noqa: E402

__all__ = ["EvalContext", "evaluate", "evaluator_calls", "evaluator_for"]

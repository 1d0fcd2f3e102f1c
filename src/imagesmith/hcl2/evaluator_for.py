"""Evaluation of ``for`` expressions: tuples, objects, ``if`` filters and ``...`` grouping."""

from __future__ import annotations

from imagesmith.hcl2 import ast
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import _EVAL, EvalContext, evaluate
from imagesmith.hcl2.types import BOOL, STRING, ListType, MapType, ObjectType, SetType, TupleType
from imagesmith.hcl2.values import DYNAMIC_VAL, Value, number_val, object_val, string_val, tuple_val


def iterate(coll: Value) -> list[tuple[Value, Value]]:
    """(key, value) pairs of a known collection, in cty's iteration order."""
    if isinstance(coll.type, (MapType, ObjectType)):
        return [(string_val(k), v) for k, v in coll.items().items()]
    if isinstance(coll.type, SetType):
        return [(v, v) for v in coll.elements()]
    return [(number_val(i), v) for i, v in enumerate(coll.elements())]


def eval_for(e: ast.For, ctx: EvalContext, diags: Diagnostics) -> Value:
    """The tuple or object a ``for`` expression builds."""
    coll = evaluate(e.coll, ctx, diags)
    if coll.is_null:
        diags.add("Iteration over null value", "A null value cannot be used as the collection in a 'for' expression.",
                  e.coll.range, e.range)
        return DYNAMIC_VAL
    if not isinstance(coll.type, (ListType, SetType, TupleType, MapType, ObjectType)):
        if not coll.is_known and coll.type.friendly_name() == "dynamic":
            return DYNAMIC_VAL
        diags.add("Iteration over non-iterable value",
                  f"A value of type {coll.type.friendly_name()} cannot be used as the collection in a 'for' "
                  "expression.", e.coll.range, e.range)
        return DYNAMIC_VAL
    if not coll.is_known:
        return DYNAMIC_VAL.with_marks(coll.marks)
    make_obj = e.key_expr is not None
    keys: dict[str, list[Value]] = {}
    vals: list[Value] = []
    marks = coll.marks
    for k, v in iterate(coll):
        names: dict[str, Value] = {e.val_var: v}
        if e.key_var:
            names[e.key_var] = k
        child = ctx.child(names)
        if e.cond is not None:
            keep = _condition(e, e.cond, child, diags)
            if keep is None:
                return DYNAMIC_VAL
            marks |= keep.marks
            if not keep.as_bool():
                continue
        val = evaluate(e.val_expr, child, diags)
        if not make_obj:
            vals.append(val)
            continue
        assert e.key_expr is not None
        key = _key(e, e.key_expr, child, diags)
        if key is None:
            return DYNAMIC_VAL
        marks |= key.marks
        name = key.as_str()
        if name in keys and not e.group:
            diags.add("Duplicate object key",
                      f'Two different items produced the key "{name}" in this \'for\' expression. If duplicates are '
                      "expected, use the ellipsis (...) after the value expression to enable grouping by key.",
                      e.key_expr.range, e.range)
            continue
        keys.setdefault(name, []).append(val)
    if not make_obj:
        return tuple_val(vals).with_marks(marks)
    if e.group:
        return object_val({k: tuple_val(v) for k, v in keys.items()}).with_marks(marks)
    return object_val({k: v[0] for k, v in keys.items()}).with_marks(marks)


def _condition(e: ast.For, cond: ast.Expr, ctx: EvalContext, diags: Diagnostics) -> Value | None:
    val = evaluate(cond, ctx, diags)
    if val.is_null:
        diags.add("Condition is null", "The value of the 'if' clause must not be null.", cond.range, e.range)
        return None
    try:
        val = convert(val, BOOL)
    except ConversionError as exc:
        diags.add("Invalid 'for' condition", f"The 'if' clause value is invalid: {exc}.", cond.range, e.range)
        return None
    return val if val.is_known else None


def _key(e: ast.For, key_expr: ast.Expr, ctx: EvalContext, diags: Diagnostics) -> Value | None:
    key = evaluate(key_expr, ctx, diags)
    if key.is_null:
        diags.add("Invalid object key", "Key expression in 'for' expression must not produce a null value.",
                  key_expr.range, e.range)
        return None
    try:
        key = convert(key, STRING)
    except ConversionError as exc:
        diags.add("Invalid object key", f"The key expression produced an invalid result: {exc}.", key_expr.range,
                  e.range)
        return None
    return key if key.is_known else None


_EVAL[ast.For] = eval_for

"""Type conversion functions (``tostring``...) and the lazy ``try`` and ``can``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.function import Function, FunctionError, Param, make
from imagesmith.hcl2.types import BOOL, DYNAMIC, NUMBER, STRING, ListType, MapType, SetType, Type
from imagesmith.hcl2.values import DYNAMIC_VAL, FALSE, TRUE, Value, unknown_val

if TYPE_CHECKING:
    from imagesmith.hcl2 import ast
    from imagesmith.hcl2.evaluator import EvalContext


def _to(want: Type) -> Function:
    def impl(args: list[Value]) -> Value:
        try:
            return convert(args[0], want)
        except ConversionError as exc:
            got = args[0].type.friendly_name()
            if got == "dynamic":
                got = "dynamic"
            msg = f"cannot convert {got} to {want.friendly_name()}"
            if exc.message.startswith("a number is required") or exc.message.startswith("a bool is required"):
                msg = f'cannot convert "{args[0].v}" to {want.friendly_name()}; {exc.message.replace("a ", "", 1)}'
            raise FunctionError(msg, 0) from None

    return make([Param("v", DYNAMIC, allow_null=True, allow_unknown=True)], want, impl)


def _try(e: ast.FunctionCall, ctx: EvalContext, diags: Diagnostics) -> Value:
    from imagesmith.hcl2.evaluator import evaluate

    if not e.args:
        diags.add("Not enough function arguments", 'Function "try" expects at least 1 argument(s).', e.range)
        return DYNAMIC_VAL
    failures: list[str] = []
    for arg in e.args:
        sub = Diagnostics()
        val = evaluate(arg, ctx, sub)
        if not sub.has_errors():
            return val if val.is_wholly_known() else DYNAMIC_VAL
        for d in sub.errors():
            where = f" (at {d.subject})" if d.subject is not None else ""
            failures.append(f"- {d.summary}{where}\n  {d.detail}")
    detail = "no expression succeeded:\n" + "\n".join(failures) + "\n\nAt least one expression must produce a " \
        "successful result"
    diags.add("Error in function call", f'Call to function "try" failed: {detail}.', e.range)
    return DYNAMIC_VAL


def _can(e: ast.FunctionCall, ctx: EvalContext, diags: Diagnostics) -> Value:
    from imagesmith.hcl2.evaluator import evaluate

    if len(e.args) != 1:
        diags.add("Not enough function arguments" if not e.args else "Too many function arguments",
                  'Function "can" expects 1 argument(s).', e.range)
        return DYNAMIC_VAL
    sub = Diagnostics()
    val = evaluate(e.args[0], ctx, sub)
    if sub.has_errors():
        return FALSE
    return TRUE if val.is_wholly_known() else unknown_val(BOOL)


def _convert(e: ast.FunctionCall, ctx: EvalContext, diags: Diagnostics) -> Value:
    """``convert(value, type)``: the second argument is a type expression, read without evaluating it."""
    from imagesmith.hcl2.evaluator import evaluate
    from imagesmith.hcl2.typeexpr import get_type

    if len(e.args) != 2:
        diags.add("Not enough function arguments" if len(e.args) < 2 else "Too many function arguments",
                  'Function "convert" expects 2 argument(s).', e.range)
        return DYNAMIC_VAL
    val = evaluate(e.args[0], ctx, diags)
    mark = len(diags)
    want = get_type(e.args[1], diags)
    if diags.has_errors_since(mark):
        return DYNAMIC_VAL
    try:
        return convert(val, want)
    except ConversionError as exc:
        diags.add("Invalid function argument", f'Invalid value for "value" parameter: {exc}.', e.args[0].range,
                  e.range)
        return unknown_val(want)


def _lazy(fn: object) -> Function:
    return Function([], lambda a: DYNAMIC_VAL, None, DYNAMIC, lazy=fn)  # type: ignore[arg-type]


FUNCTIONS = {
    "tostring": _to(STRING),
    "tonumber": _to(NUMBER),
    "tobool": _to(BOOL),
    "tolist": _to(ListType(DYNAMIC)),
    "toset": _to(SetType(DYNAMIC)),
    "tomap": _to(MapType(DYNAMIC)),
    "try": _lazy(_try),
    "can": _lazy(_can),
    "convert": _lazy(_convert),
}

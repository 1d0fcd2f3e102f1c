"""Evaluation of function calls (with ``...`` expansion) and string templates."""

from __future__ import annotations

from imagesmith.hcl2 import ast
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.didyoumean import suggest
from imagesmith.hcl2.evaluator import _EVAL, EvalContext, evaluate
from imagesmith.hcl2.function import Function, FunctionError
from imagesmith.hcl2.types import STRING, DynamicType, ListType, SetType, TupleType
from imagesmith.hcl2.values import DYNAMIC_VAL, NO_MARKS, Value, string_val, unknown_val


def call_function(e: ast.FunctionCall, ctx: EvalContext, diags: Diagnostics) -> Value:
    """Evaluate a call: look the function up, count, expand and convert arguments, call it."""
    functions = ctx.find_functions()
    if functions is None:
        diags.add("Function calls not allowed", "Functions may not be called here.", e.range)
        return DYNAMIC_VAL
    fn = functions.get(e.name)
    if fn is None:
        hint = suggest(e.name, sorted(functions))
        hint = f' Did you mean "{hint}"?' if hint else ""
        diags.add("Call to unknown function", f'There is no function named "{e.name}".{hint}', e.name_range, e.range)
        return DYNAMIC_VAL
    if fn.lazy is not None:
        return fn.lazy(e, ctx, diags)
    mark = len(diags)
    args: list[Value] = [evaluate(a, ctx, diags) for a in e.args]
    arg_exprs: list[ast.Expr] = list(e.args)
    if e.expand_final and args:
        expanded = _expand_final(e, args[-1], diags)
        if expanded is None:
            return unknown_val(fn.result_type([])) if not diags.has_errors_since(mark) else DYNAMIC_VAL
        args = args[:-1] + expanded
        arg_exprs = arg_exprs[:-1] + [e.args[-1]] * len(expanded)
    if not _check_count(e, fn, args, arg_exprs, diags) or diags.has_errors_since(mark):
        return DYNAMIC_VAL
    try:
        return fn.call(args)
    except FunctionError as exc:
        if exc.arg is not None and exc.arg < len(arg_exprs):
            param = fn.param_for(exc.arg)
            pname = param.name if param else "?"
            diags.add("Invalid function argument", f'Invalid value for "{pname}" parameter: {exc.message}.',
                      arg_exprs[exc.arg].range, e.range)
        else:
            diags.add("Error in function call", f'Call to function "{e.name}" failed: {exc.message}.',
                      e.range, e.range)
        return unknown_val(fn.result_type(args))


def _expand_final(e: ast.FunctionCall, last: Value, diags: Diagnostics) -> list[Value] | None:
    rng = e.args[-1].range
    if last.is_null:
        diags.add("Invalid expanding argument value",
                  "The expanding argument (indicated by ...) must not be null.", rng, e.range)
        return None
    if not isinstance(last.type, (ListType, SetType, TupleType, DynamicType)):
        diags.add("Invalid expanding argument value",
                  "The expanding argument (indicated by ...) must be of a tuple, list, or set type.", rng, e.range)
        return None
    if not last.is_known:
        return None
    return [el.with_marks(last.marks) for el in last.elements()]


def _check_count(e: ast.FunctionCall, fn: Function, args: list[Value], exprs: list[ast.Expr],
                 diags: Diagnostics) -> bool:
    n = len(fn.params)
    if len(args) < n:
        missing = fn.params[len(args)].name
        diags.add("Not enough function arguments",
                  f'Function "{e.name}" expects {n} argument(s). Missing value for "{missing}".',
                  e.close_paren_range, e.range)
        return False
    if len(args) > n and fn.var_param is None:
        extra = exprs[n].range if n < len(exprs) else e.close_paren_range
        diags.add("Too many function arguments", f'Function "{e.name}" expects only {n} argument(s).', extra,
                  e.range)
        return False
    return True


def eval_template(e: ast.Template, ctx: EvalContext, diags: Diagnostics) -> Value:
    """Concatenate the parts of a template as strings."""
    out: list[str] = []
    known = True
    marks = NO_MARKS
    for part in e.parts:
        val = evaluate(part, ctx, diags)
        if val.is_null:
            diags.add("Invalid template interpolation value",
                      "The expression result is null. Cannot include a null value in a string template.",
                      part.range, e.range)
            continue
        marks |= val.marks
        if not val.is_known:
            known = False
            continue
        try:
            s = convert(Value(val.type, val.v), STRING)
        except ConversionError as exc:
            diags.add("Invalid template interpolation value",
                      f"Cannot include the given value in a string template: {exc}.", part.range, e.range)
            continue
        out.append(s.as_str())
    if not known:
        return unknown_val(STRING).with_marks(marks)
    return string_val("".join(out)).with_marks(marks)


def eval_template_join(e: ast.TemplateJoin, ctx: EvalContext, diags: Diagnostics) -> Value:
    """Join the results of a ``%{ for }`` directive."""
    tup = evaluate(e.tuple, ctx, diags)
    if tup.is_null:
        return Value(STRING, None)
    if not tup.is_known:
        return unknown_val(STRING).with_marks(tup.marks)
    out: list[str] = []
    marks = tup.marks
    for val in tup.elements():
        if val.is_null:
            diags.add("Invalid template interpolation value",
                      "An iteration result is null. Cannot include a null value in a string template.", e.range)
            continue
        if isinstance(val.type, DynamicType) or not val.is_known:
            return unknown_val(STRING).with_marks(marks)
        marks |= val.marks
        try:
            out.append(convert(Value(val.type, val.v), STRING).as_str())
        except ConversionError as exc:
            diags.add("Invalid template interpolation value",
                      f"Cannot include one of the interpolation results into the string template: {exc}.", e.range)
    return string_val("".join(out)).with_marks(marks)


_EVAL[ast.FunctionCall] = call_function
_EVAL[ast.Template] = eval_template
_EVAL[ast.TemplateJoin] = eval_template_join

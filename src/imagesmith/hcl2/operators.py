"""HCL's operators with cty's semantics: arithmetic at 512-bit precision, equality across types,
short-circuiting logic over unknowns, and marks carried to the result."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

from imagesmith.hcl2.numbers import round_to_precision
from imagesmith.hcl2.types import BOOL, DYNAMIC, NUMBER, DynamicType, Type
from imagesmith.hcl2.values import FALSE, TRUE, UNKNOWN, Value, bool_val, unknown_val


class OperationError(Exception):
    """An operator's own failure (not a type mismatch): "can't divide zero by zero"."""


def _num(v: Fraction) -> Value:
    if isinstance(v, float) and math.isnan(v):  # inf - inf and the like
        raise OperationError("result is not a number (an operation on infinities)")
    return Value(NUMBER, round_to_precision(v))


def _div(a: Fraction, b: Fraction) -> Fraction:
    if b == 0:
        if a == 0:
            raise OperationError("can't divide zero by zero or infinity by infinity")
        return math.inf if a > 0 else -math.inf  # type: ignore[return-value]  # as big.Float: x/0 is ±Inf
    if isinstance(a, float) and isinstance(b, float):
        raise OperationError("can't divide zero by zero or infinity by infinity")
    return round_to_precision(a / b)


def _mod(a: Fraction, b: Fraction) -> Fraction:
    if isinstance(a, float) or isinstance(b, float):
        raise OperationError("can't use modulo operator with infinity")
    if b == 0:
        raise OperationError("can't use modulo operator with zero")
    q = _div(a, b)
    trunc = Fraction(int(q))
    return round_to_precision(a - round_to_precision(b * trunc))


_ARITH: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "%": _mod,
}
_COMPARE: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def operand_type(op: str) -> Type:
    """The parameter type both operands are converted to."""
    if op in _ARITH or op in _COMPARE or op == "neg":
        return NUMBER
    if op in ("&&", "||", "!"):
        return BOOL
    return DYNAMIC


def result_type(op: str) -> Type:
    return NUMBER if op in _ARITH or op == "neg" else BOOL


def apply_binary(op: str, a: Value, b: Value) -> Value:
    """``a op b`` for operands already converted to :func:`operand_type`."""
    marks = a.marks | b.marks
    if op in ("==", "!="):
        eq = equals(a, b)
        if not eq.is_known:
            return eq.with_marks(marks)
        return bool_val(eq.as_bool() == (op == "==")).with_marks(marks)
    if op in ("&&", "||"):
        return _logic(op, a, b).with_marks(marks)
    if a.is_null or b.is_null:
        raise OperationError("argument must not be null")
    if not a.is_known or not b.is_known:
        return unknown_val(result_type(op)).with_marks(marks)
    if op in _ARITH:
        return _num(_ARITH[op](a.as_number(), b.as_number())).with_marks(marks)
    return bool_val(_COMPARE[op](a.as_number(), b.as_number())).with_marks(marks)


def _logic(op: str, a: Value, b: Value) -> Value:
    if a.is_null or b.is_null:
        raise OperationError("argument must not be null")
    short = FALSE if op == "&&" else TRUE
    if (a.is_known and a.v == short.v) or (b.is_known and b.v == short.v):
        return short
    if not a.is_known or not b.is_known:
        return unknown_val(BOOL)
    return bool_val(a.as_bool() and b.as_bool()) if op == "&&" else bool_val(a.as_bool() or b.as_bool())


def apply_unary(op: str, a: Value) -> Value:
    if a.is_null:
        raise OperationError("argument must not be null")
    if not a.is_known:
        return unknown_val(result_type(op)).with_marks(a.marks)
    if op == "neg":
        return _num(-a.as_number()).with_marks(a.marks)
    return bool_val(not a.as_bool()).with_marks(a.marks)


def equals(a: Value, b: Value) -> Value:
    """cty's Equals: false across different types, unknown if either side is, deep for collections."""
    if a.is_null or b.is_null:
        if a.is_null and b.is_null:
            return TRUE
        if (not a.is_null and not a.is_known) or (not b.is_null and not b.is_known):
            return unknown_val(BOOL)
        return FALSE
    if not a.is_known or not b.is_known:
        return unknown_val(BOOL)
    if isinstance(a.type, DynamicType) or isinstance(b.type, DynamicType):
        return unknown_val(BOOL)
    if a.type != b.type:
        return FALSE
    va, vb = a.v, b.v
    if isinstance(va, list):
        if len(va) != len(vb):
            return FALSE
        return _all_equal(zip(va, vb, strict=True))
    if isinstance(va, dict):
        if va.keys() != vb.keys():
            return FALSE
        return _all_equal((va[k], vb[k]) for k in va)
    return bool_val(bool(va == vb))


def _all_equal(pairs: object) -> Value:
    unknown = False
    for x, y in pairs:  # type: ignore[attr-defined]
        r = equals(x, y)
        if not r.is_known:
            unknown = True
        elif r.v is False:
            return FALSE
    return unknown_val(BOOL) if unknown else TRUE


_ = UNKNOWN

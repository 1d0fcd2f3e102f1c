"""Number functions of cty's standard library."""

from __future__ import annotations

import math
from fractions import Fraction

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.types import NUMBER, STRING
from imagesmith.hcl2.values import Value, number_val

_N = Param("num", NUMBER)


def _num1(fn: object) -> object:
    def impl(args: list[Value]) -> Value:
        x = args[0].as_number()
        if isinstance(x, float):  # an infinity: abs/ceil/floor keep it (abs makes it positive)
            return Value(NUMBER, abs(x) if fn is abs else (x if fn is not _signum else float(_signum(x))))
        return number_val(fn(x))  # type: ignore[operator]

    return make([_N], NUMBER, impl)


def _extreme(pick: object) -> object:
    def impl(args: list[Value]) -> Value:
        if not args:
            raise FunctionError("must pass at least one number")
        return number_val(pick(a.as_number() for a in args))  # type: ignore[operator]

    return make([], NUMBER, impl, Param("numbers", NUMBER))


def _to_float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _log(args: list[Value]) -> Value:
    num, base = _to_float(args[0].as_number()), _to_float(args[1].as_number())
    try:
        return number_val(math.log(num) / math.log(base))
    except (ValueError, ZeroDivisionError):
        raise FunctionError("result is not a finite number") from None


def _pow(args: list[Value]) -> Value:
    try:
        result = math.pow(_to_float(args[0].as_number()), _to_float(args[1].as_number()))
    except (OverflowError, ValueError):
        raise FunctionError("result is not a finite number") from None
    if math.isinf(result) or math.isnan(result):
        raise FunctionError("result is not a finite number")
    return number_val(result)


def _digit(c: str, base: int) -> int:
    if c.isdigit():
        v = ord(c) - 48
    elif "a" <= c <= "z":
        v = ord(c) - 87
    elif "A" <= c <= "Z":
        v = ord(c) - 55 if base <= 36 else ord(c) - 29
    else:
        return -1
    return v if v < base else -1


def _parseint(args: list[Value]) -> Value:
    text, base_f = args[0].as_str(), args[1].as_number()
    if base_f.denominator != 1 or not 2 <= base_f <= 62:
        raise FunctionError("base must be a whole number between 2 and 62 inclusive", 1)
    base = int(base_f)
    body = text[1:] if text[:1] in ("+", "-") else text
    n = 0
    for c in body:
        d = _digit(c, base)
        if d < 0:
            body = ""
            break
        n = n * base + d
    if not body:
        raise FunctionError(f'cannot parse "{text}" as a base {base} integer', 0)
    return number_val(-n if text.startswith("-") else n)


def _sum(args: list[Value]) -> Value:
    lst = args[0]
    if not isinstance(lst.v, list):
        raise FunctionError("cannot sum noniterable", 0)
    if not lst.elements():
        raise FunctionError("cannot sum an empty list")
    total = Fraction(0)
    for e in lst.elements():
        if e.is_null or not isinstance(e.v, Fraction):
            raise FunctionError("argument must be list, set, or tuple of number values", 0)
        total += e.as_number()
    return number_val(total)


def _signum(x: Fraction) -> int:
    return (x > 0) - (x < 0)


FUNCTIONS = {
    "abs": _num1(abs),
    "ceil": _num1(math.ceil),
    "floor": _num1(math.floor),
    "signum": _num1(_signum),
    "max": _extreme(max),
    "min": _extreme(min),
    "log": make([_N, Param("base", NUMBER)], NUMBER, _log),
    "pow": make([_N, Param("power", NUMBER)], NUMBER, _pow),
    "parseint": make([Param("number", STRING), Param("base", NUMBER)], NUMBER, _parseint),
}
SUM = _sum

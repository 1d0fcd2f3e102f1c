"""Go's ``fmt`` as templates see it: how values print (``%v``), ``Sprint``/``Sprintln``/``Sprintf``.

Python values stand for Go values: ``str`` string, ``bool`` bool, ``int`` int, ``float`` float64,
``None`` a nil interface, ``list``/``tuple`` ``[]interface {}``, ``dict`` ``map[string]interface {}``,
any other object a struct. :data:`NO_VALUE` is Go's invalid ``reflect.Value`` (a missing map key).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from imagesmith.template.engine.quoting import go_quote


class _NoValue:
    """Go's zero ``reflect.Value``: what a missing map key or nil data evaluates to."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Final = _NoValue()


def type_name(value: Any) -> str:
    """The Go type name of a value, as error messages and ``%T`` show it."""
    if value is None or value is NO_VALUE:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    return type(value).__name__


def format_float(value: float, verb: str = "g", prec: int = -1) -> str:
    """Go's ``strconv.FormatFloat`` for verbs e, E, f, F, g, G (prec -1 = shortest)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if prec >= 0:
        text = f"%.{prec}{verb}" % value
        return text
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    digits, dp = _shortest_digits(abs(value))
    nd = len(digits)
    lower = verb.lower()
    use_e = lower == "e" or (lower == "g" and (dp - 1 < -4 or dp - 1 >= 6))
    if use_e:
        mant = digits[0] + ("." + digits[1:] if nd > 1 else "")
        exp = dp - 1
        e = "E" if verb in "EG" else "e"
        return f"{sign}{mant}{e}{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= nd:
        return f"{sign}{digits}{'0' * (dp - nd)}"
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of a positive float and the decimal point position."""
    if value == 0:
        return "0", 1
    _, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    return stripped, len(stripped) + int(exponent) + len(digits) - len(stripped)


def format_value(value: Any) -> str:
    """``fmt.Sprint`` of one value (``%v``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    if value is NO_VALUE:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, complex):
        imag = format_float(value.imag)
        return f"({format_float(value.real)}{'' if imag[0] in '+-' else '+'}{imag}i)"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{format_value(k)}:{format_value(v)}" for k, v in items) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = (getattr(value, f.name) for f in dataclasses.fields(value))
        return "{" + " ".join(format_value(v) for v in fields) + "}"
    try:
        return str(value)
    except Exception:  # a data object whose __str__ fails still prints, as Go would print its fields
        return f"<{type(value).__name__}>"


def _sort_key(key: Any) -> tuple[int, Any]:
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return (0, key)
    return (1, str(key))


def sprint(args: Sequence[Any]) -> str:
    """``fmt.Sprint``: a space between operands when neither side is a string."""
    out: list[str] = []
    prev_string = False
    for index, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if index > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(format_value(arg))
        prev_string = is_string
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    """``fmt.Sprintln``: operands separated by spaces, then a newline."""
    return " ".join(format_value(a) for a in args) + "\n"


def quote_string(value: str, plus: bool = False, sharp: bool = False) -> str:
    """``%q`` of a string; ``#`` prefers a raw string, ``+`` escapes non-ASCII."""
    if sharp and "`" not in value and all(c.isprintable() or c == "\t" for c in value):
        return "`" + value + "`"
    quoted = go_quote(value)
    if plus:
        quoted = "".join(
            c if ord(c) < 0x80 else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in quoted
        )
    return quoted

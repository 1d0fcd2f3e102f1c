"""Values shown to people: HCL-like text in which sensitive values (at any depth) read ``<sensitive>``."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

from imagesmith.hcl2.numbers import format_number
from imagesmith.hcl2.values import SENSITIVE, UNKNOWN, Value


def show(val: Value) -> str:
    """``val`` as text: strings quoted, collections in HCL syntax, secrets masked, unknowns named."""
    if SENSITIVE in val.marks:
        return "<sensitive>"
    v = val.v
    if v is UNKNOWN:
        return "<unknown>"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (Fraction, float)):
        return format_number(v)  # type: ignore[arg-type]
    if isinstance(v, list):
        return "[" + ", ".join(show(e) for e in v) + "]"
    return "{" + ", ".join(f"{_key(k)} = {show(e)}" for k, e in v.items()) + "}"


def _key(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name, ensure_ascii=False)


def printable(val: Value) -> str:
    """``val`` as ``packer console`` and ``inspect`` print it (Packer's ``PrintableCtyValue``): a string
    bare at the top and quoted inside, lists and maps one element a line with trailing commas for
    lists, map keys sorted, integers exact, other numbers as Go's ``%g``. Sensitive values read
    ``<sensitive>``; anything not wholly known is ``<unknown>``."""
    if not val.is_wholly_known():
        return "<unknown>"
    return _printable(val, nested=False)


def _printable(val: Value, nested: bool) -> str:
    if SENSITIVE in val.marks:
        return '"<sensitive>"' if nested else "<sensitive>"
    v = val.v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _go_quote(v) if nested else v
    if isinstance(v, (Fraction, float)):
        return _go_number(v)
    if isinstance(v, list):
        body = "".join(_indent(_printable(e, True)) + ",\n" for e in v)
        return "[\n" + body + "]" if v else "[]"
    body = "".join(_indent(f"{_go_quote(k)} = {_printable(v[k], True)}") + "\n" for k in sorted(v))
    return "{\n" + body + "}" if v else "{}"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.split("\n"))


def _go_quote(text: str) -> str:
    from imagesmith.template.engine.gofmt import quote_string

    return quote_string(text)


def _go_number(x: Fraction | float) -> str:
    """An integer that fits 64 bits exactly; anything else as a float64 in Go's shortest ``%g``."""
    if isinstance(x, Fraction) and x.denominator == 1 and -(2**63) <= x.numerator < 2**63:
        return str(x.numerator)
    try:
        f = float(x)
    except OverflowError:
        f = float("inf") if x > 0 else float("-inf")
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    digits, exp = _shortest_digits(f)
    sign = "-" if f < 0 else ""
    if exp < -4 or exp >= 6:  # %g's rule for the shortest precision
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{exp:+03d}"
    return sign + format(Decimal(repr(abs(f))).normalize(), "f")


def _shortest_digits(f: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip ``f`` and the exponent of the first digit."""
    _, digit_tuple, exponent = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    return digits, len(digits) + int(exponent) - 1

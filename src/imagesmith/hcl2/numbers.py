"""cty numbers: arbitrary-precision binary floats with a 512-bit mantissa, rounded to nearest even.

cty keeps numbers in Go's ``big.Float`` at 512 bits of precision, so ``0.1`` is not exact and
``11 % 5.1`` ends in ``...024``. Numbers here are :class:`fractions.Fraction` values rounded to
that precision after every operation, which gives the same results and the same printed text.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction

PRECISION = 512
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LIMIT = 1 << PRECISION


def round_to_precision(x: Fraction) -> Fraction:
    """``x`` rounded to the nearest 512-bit binary float (ties to even). Infinities (float) pass through."""
    if isinstance(x, float):
        return x
    num, den = x.numerator, x.denominator
    if den == 1 and -_LIMIT < num < _LIMIT:
        return x
    if den & (den - 1) == 0 and abs(num).bit_length() <= PRECISION:
        return x
    sign = -1 if num < 0 else 1
    num = abs(num)
    # find e with 2**(PRECISION-1) <= num/den * 2**-e < 2**PRECISION
    e = num.bit_length() - den.bit_length() - PRECISION
    while True:
        scaled_num, scaled_den = (num, den << e) if e >= 0 else (num << -e, den)
        q, r = divmod(scaled_num, scaled_den)
        if q >= _LIMIT:
            e += 1
            continue
        if q < _LIMIT >> 1:
            e -= 1
            continue
        break
    twice = 2 * r
    if twice > scaled_den or (twice == scaled_den and q & 1):
        q += 1
    result = Fraction(q) * (Fraction(2) ** e)
    return result if sign > 0 else -result


def parse_number(text: str) -> Fraction | None:
    """Parse a number literal as cty.ParseNumberVal does; None if ``text`` is not a number."""
    if not _NUMBER_RE.fullmatch(text):
        return None
    return round_to_precision(Fraction(Decimal(text)))


def format_number(x: Fraction) -> str:
    """The shortest decimal text that reads back as ``x``, as big.Float's Text('f', -1)."""
    if isinstance(x, float):  # cty numbers may be infinite (1/0), never NaN
        return "+Inf" if x > 0 else "-Inf"
    if x.denominator == 1 and x.numerator.bit_length() <= 512:  # exact, and no shorter text reads back as x
        return str(x.numerator)
    neg = x < 0
    ax = -x if neg else x
    for digits in range(1, 200):
        with localcontext() as ctx:
            ctx.prec = digits
            dec = Decimal(ax.numerator) / Decimal(ax.denominator)
        if round_to_precision(Fraction(dec)) == ax:
            text = format(dec, "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return ("-" if neg else "") + text
    return ("-" if neg else "") + format(Decimal(ax.numerator) / Decimal(ax.denominator), "f")


def number_from_float(f: float) -> Fraction:
    """A Python float as a cty number (exact: a float's value fits in 512 bits)."""
    return Fraction(f)

"""What a YAML scalar means to go-cty-yaml: its resolver (``resolve.go``), rule for rule.

An untagged plain scalar is looked up by its first character: ``yYnNtTfFoO~`` only in the table of
booleans and nulls; a digit or a sign tries a timestamp (``YYYY-M-D`` with an optional time) and
then a decimal number with underscores removed (and ``0b`` binary); a dot tries a number. Anything
else is a string. Explicit tags ask for one type and fail when the text is not one.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re

from imagesmith.hcl2.function import FunctionError
from imagesmith.hcl2.numbers import parse_number
from imagesmith.hcl2.types import NUMBER
from imagesmith.hcl2.values import FALSE, NULL_DYNAMIC, TRUE, Value, number_val, string_val

_P = "tag:yaml.org,2002:"
STR, BINARY, BOOL, INT, FLOAT, NULL, TIMESTAMP = (_P + t for t in ("str", "binary", "bool", "int", "float", "null",
                                                                  "timestamp"))  # fmt: skip
_INF = float("inf")
_TABLE: dict[str, Value] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), TRUE),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), FALSE),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), NULL_DYNAMIC),
}
_INFINITIES = {**dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), _INF),
               **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -_INF)}  # fmt: skip
_HINT_TABLE = frozenset("yYnNtTfFoO~")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(?(4)(Z|[+-]\d{2}:\d{2})|)"
)
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")


def resolve_scalar(tag: str, src: str) -> Value:
    """The value of scalar text ``src`` with ``tag`` ("" when untagged and plain)."""
    if tag not in ("", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP, BINARY):
        raise FunctionError(f'unsupported tag "{_short(tag)}"')
    hint = _hint(src)
    if hint and tag not in (STR, BINARY):
        found = _resolve_by_hint(hint, tag, src)
        if found is not None:
            return found
        if hint == "D" and src.replace("_", "").startswith(("0b", "-0b")):
            tag = INT
    return _resolve_tagged(tag, src)


def _hint(src: str) -> str:
    """go-cty-yaml's first-character hint: M(ap), D(igit or sign), "." or "" (none)."""
    if not src:
        return "M"  # the empty text is in the table (null)
    first = src[0]
    if first in _HINT_TABLE:
        return "M"
    if first in "0123456789+-":
        return "D"
    return "." if first == "." else ""


def _resolve_by_hint(hint: str, tag: str, src: str) -> Value | None:
    if src in _TABLE:
        return _TABLE[src]
    if src in _INFINITIES:
        return Value(NUMBER, _INFINITIES[src])
    if src in (".nan", ".NaN", ".NAN"):
        raise FunctionError("floating point NaN is not supported")
    if hint == ".":
        num = parse_number(src)
        return number_val(num) if num is not None else None
    if hint == "D":
        if tag in ("", TIMESTAMP):
            stamp = parse_timestamp(src)
            if stamp is not None:
                return string_val(stamp)
        num = parse_number(src.replace("_", ""))
        return number_val(num) if num is not None else None
    return None


def _resolve_tagged(tag: str, src: str) -> Value:
    if tag in (STR, BINARY):
        if tag == BINARY:
            try:
                base64.b64decode(src, validate=True)
            except (binascii.Error, ValueError):
                raise FunctionError(f'cannot parse "{src}" as {tag}: not valid base64') from None
        return string_val(src)
    if tag == BOOL:
        if src in _TABLE and _TABLE[src] is not NULL_DYNAMIC:
            return _TABLE[src]
        raise FunctionError(f'cannot parse "{src}" as {tag}')
    if tag in (INT, FLOAT):
        return _parse_int_or_float(tag, src)
    if tag == TIMESTAMP:
        stamp = parse_timestamp(src)
        if stamp is None:
            raise FunctionError(f'cannot parse "{src}" as {tag}')
        return string_val(stamp)
    if tag == NULL:
        return NULL_DYNAMIC
    return string_val(src)


def _parse_int_or_float(tag: str, src: str) -> Value:
    plain = src.replace("_", "")
    num = parse_number(plain)
    if num is not None:
        return number_val(num)
    if _GO_INT.fullmatch(plain):  # Go's ParseInt with base 0: 0x, 0o, 0b and a leading 0 for octal
        sign = -1 if plain.startswith("-") else 1
        body = plain.lstrip("+-").lower()
        if body.startswith(("0x", "0o", "0b")):
            value = int(body, 0)
        else:
            value = int(body, 8) if body.startswith("0") and len(body) > 1 else int(body)
        if -(2**63) <= sign * value < 2**64:
            return number_val(sign * value)
    raise FunctionError(f'cannot parse "{src}" as {tag}')


def parse_timestamp(src: str) -> str | None:
    """``src`` as RFC 3339 (seconds, ``Z`` for UTC) if it is one of go-cty-yaml's timestamp forms."""
    if not re.match(r"\d{4}-", src):
        return None
    m = _DATE.fullmatch(src)
    if m:
        parts = [int(g) for g in m.groups()] + [0, 0, 0]
        zone = "Z"
    else:
        m = _DATETIME.fullmatch(src)
        if m is None:
            return None
        year, month, day, _t, _sp, hour, minute, sec, _frac, zone = m.groups()
        parts = [int(x) for x in (year, month, day, hour, minute, sec)]
        zone = zone or "Z"
    year, month, day, hour, minute, sec = parts
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or sec > 59:
        return None
    if zone != "Z" and zone in ("+00:00", "-00:00"):
        zone = "Z"
    return f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{sec:02}{zone}"


def _short(tag: str) -> str:
    return "!!" + tag[len(_P) :] if tag.startswith(_P) else tag

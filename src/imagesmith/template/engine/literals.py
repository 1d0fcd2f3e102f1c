"""Go literal syntax: ``strconv.Unquote`` for strings and characters, and number constants."""

from __future__ import annotations

import math
from dataclasses import dataclass

from imagesmith.template.engine.quoting import go_quote


class LiteralError(ValueError):
    """A malformed literal; the message is Go's."""


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34}


def unquote(quoted: str) -> str:
    """Go's ``strconv.Unquote`` for "..." and `...` literals."""
    if quoted.startswith("`"):
        if len(quoted) < 2 or not quoted.endswith("`"):
            raise LiteralError("invalid syntax")
        return quoted[1:-1].replace("\r", "")
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
        raise LiteralError("invalid syntax")
    out = bytearray()
    body = quoted[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"' or ch == "\n":
            raise LiteralError("invalid syntax")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        i = _unescape(body, i + 1, '"', out)
    return out.decode("utf-8", "replace")


def _unescape(body: str, i: int, quote: str, out: bytearray) -> int:
    """Decode one escape starting after the backslash at ``body[i]``; return the next index."""
    if i >= len(body):
        raise LiteralError("invalid syntax")
    ch = body[i]
    if ch in _SIMPLE_ESCAPES:
        if ch in "'\"" and ch != quote:
            raise LiteralError("invalid syntax")
        out.append(_SIMPLE_ESCAPES[ch])
        return i + 1
    if ch in "01234567":
        digits = body[i : i + 3]
        if len(digits) < 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
            raise LiteralError("invalid syntax")
        out.append(int(digits, 8))
        return i + 3
    sizes = {"x": 2, "u": 4, "U": 8}
    if ch not in sizes:
        raise LiteralError("invalid syntax")
    digits = body[i + 1 : i + 1 + sizes[ch]]
    if len(digits) < sizes[ch] or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise LiteralError("invalid syntax")
    value = int(digits, 16)
    if ch == "x":
        out.append(value)
    else:
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise LiteralError("invalid syntax")
        out += chr(value).encode("utf-8")
    return i + 1 + sizes[ch]


def unquote_char(quoted: str) -> int:
    """The code point of a Go character constant such as ``'a'`` or ``'\\n'``."""
    body = quoted[1:-1] if len(quoted) >= 2 else ""
    if not body:
        raise LiteralError("invalid syntax")
    if body[0] != "\\":
        if len(body) != 1:
            raise LiteralError(f"malformed character constant: {quoted}")
        return ord(body)
    out = bytearray()
    end = _unescape(body, 1, "'", out)
    if end != len(body):
        raise LiteralError(f"malformed character constant: {quoted}")
    if body[1] == "x" or body[1] in "01234567":
        return out[0]
    return ord(out.decode("utf-8"))


def _parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``-style parsing: sign, 0x/0o/0b prefixes, leading-0 octal,
    and underscores between digits."""
    body = text.lstrip("+-")
    if len(text) - len(body) > 1:
        return None
    sign = -1 if text.startswith("-") else 1
    if len(body) > 1 and body[0] == "0" and body[1] not in "xXoObB":
        body = "0o" + body[1:]  # Go's leading-zero octal
    try:
        return sign * int(body, 0)
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    body = text.replace("_", "")
    try:
        if body.lower().lstrip("+-").startswith("0x"):
            if "p" not in body.lower():
                return None  # Go requires the p exponent in hexadecimal floats
            value = float.fromhex(body)
        elif body.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return None
        else:
            value = float(body)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None  # Go: out of range is a syntax error here


@dataclass(frozen=True)
class Number:
    """A parsed numeric constant (Go's NumberNode flags)."""

    as_int: int | None
    as_float: float | None
    as_complex: complex | None
    is_float_syntax: bool  # Go's idealConstant makes these float64


def _integral(value: float) -> int | None:
    if math.isfinite(value) and value == int(value) and -(2**63) <= value < 2**63:
        return int(value)
    return None


def _parse_complex(text: str, full: bool) -> Number:
    """``1.5i`` (imaginary only) or, when ``full``, ``1+2i``."""
    try:
        if full:
            value = complex(text.replace("_", "")[:-1] + "j")
        else:
            imag = _parse_float(text[:-1])
            if imag is None:
                raise ValueError(text)
            value = complex(0, imag)
    except ValueError:
        raise LiteralError(f"illegal number syntax: {go_quote(text)}") from None
    if value.imag == 0:
        return Number(_integral(value.real), value.real, None, True)
    return Number(None, None, value, False)


def parse_number(text: str, kind: str = "number") -> Number:
    """Go's ``newNumber`` for ``kind`` "number", "char" or "complex" (``1+2i``).

    Raises LiteralError with Go's message for bad constants.
    """
    if kind == "char":
        code = unquote_char(text)
        return Number(code, float(code), None, False)
    if kind == "complex" or text.endswith("i"):
        return _parse_complex(text, kind == "complex")
    as_int = _parse_int(text)
    if as_int is not None and not -(2**63) <= as_int < 2**64:
        as_int = None
    as_float = float(as_int) if as_int is not None else _parse_float(text)
    if as_int is None and as_float is not None:
        if not any(c in text for c in ".eEpP"):
            raise LiteralError(f"integer overflow: {text}")
        as_int = _integral(as_float)
    if as_int is None and as_float is None:
        raise LiteralError(f"illegal number syntax: {go_quote(text)}")
    is_hex_int = text.lower().lstrip("+-").startswith("0x") and not any(c in text for c in "pP")
    is_float_syntax = not is_hex_int and any(c in text for c in ".eEpP")
    return Number(as_int, as_float, None, is_float_syntax)

"""Go literal syntax: ``strconv.Unquote`` for strings and characters, and number constants."""

from __future__ import annotations

import math

from imagesmith.template.engine.lexer import go_quote


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
        raise LiteralError(f"malformed character constant: {quoted}")
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
    """``strconv.ParseInt(text, 0, 64)``-style parsing (sign, prefixes, underscores, leading-0 octal)."""
    sign = 1
    body = text
    if body[:1] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        return None
    lower = body.lower()
    base = 10
    if lower.startswith(("0x", "0o", "0b")):
        base = {"x": 16, "o": 8, "b": 2}[lower[1]]
        body = body[2:]
    elif len(body) > 1 and body[0] == "0":
        base = 8
        body = body[1:]
    elif "_" in body:
        return None  # underscores only with a base prefix (Go's base-0 rule)
    if not body or body.endswith("_") or "__" in body or (body.startswith("_") and base in (10, 8)):
        return None
    try:
        return sign * int(body.replace("_", ""), base)
    except ValueError:
        return None


def _parse_float(text: str) -> float | None:
    body = text.replace("_", "")
    try:
        if body.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(body)
        if body.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return None
        return float(body)
    except (ValueError, OverflowError):
        return None


def parse_number(text: str, is_char: bool) -> tuple[int | None, float | None, bool]:
    """Go's ``newNumber``: (integer value if integral, float value, whether Go treats it as float64).

    Raises LiteralError with Go's message for bad constants.
    """
    if is_char:
        code = unquote_char(text)
        return code, float(code), False
    if text.endswith("i"):
        raise LiteralError(f"illegal number syntax: {go_quote(text)}")
    as_int = _parse_int(text)
    if as_int is not None and not -(2**63) <= as_int < 2**64:
        as_int = None
    as_float = float(as_int) if as_int is not None else _parse_float(text)
    if as_int is None and as_float is not None:
        if not any(c in text for c in ".eEpP"):
            raise LiteralError(f"integer overflow: {text}")
        if math.isfinite(as_float) and as_float == int(as_float) and -(2**63) <= as_float < 2**63:
            as_int = int(as_float)
    if as_int is None and as_float is None:
        raise LiteralError(f"illegal number syntax: {go_quote(text)}")
    is_hex_int = text.lower().lstrip("+-").startswith("0x") and not any(c in text for c in "pP")
    is_float_syntax = not is_hex_int and any(c in text for c in ".eEpP")
    return as_int, as_float, is_float_syntax

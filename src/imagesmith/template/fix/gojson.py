"""JSON read and written the way ``packer fix`` does it (Go's ``encoding/json``).

Reading (:func:`parse_template`) follows ``json.Decoder.Decode`` into ``map[string]interface{}``:
every number becomes a float64 (a number out of float64 range is an error), invalid UTF-8 and lone
surrogates become U+FFFD, a repeated key keeps its last value, and only the first JSON value is read
(text after it is ignored; :func:`parse_template` returns where it starts so the caller can warn).

Writing (:func:`format_fixed`) reproduces what Packer prints: Go's encoder (keys sorted, HTML
characters and U+2028/U+2029 escaped, Go's float formatting), re-indented with two spaces, then
``\\u003c``/``\\u003e`` turned back into ``<``/``>`` across the whole text (``&`` stays ``\\u0026``),
and a final blank line (the encoder's newline plus the Ui's).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from imagesmith.errors import Location, Problem, TemplateError

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "<": "\\u003c", ">": "\\u003e"}
_ESCAPES["&"] = "\\u0026"
_ESCAPES["\u2028"] = "\\u2028"
_ESCAPES["\u2029"] = "\\u2029"
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029]')
#: Deeper templates are refused (Go allows 10000 levels; Python's recursion would fail long before).
MAX_DEPTH = 100


class _NumberRangeError(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _parse_number(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NumberRangeError(text)
    return value


def _reject_constant(text: str) -> Any:
    raise ValueError(f"invalid character '{text[0]}' looking for beginning of value")


def _decode_bytes(data: bytes) -> str:
    # Each invalid byte becomes a lone surrogate here and U+FFFD in _clean, one per byte as in Go
    # (Python's "replace" handler would merge a truncated sequence into one U+FFFD).
    return data.decode("utf-8", errors="surrogateescape")


def _clean_string(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _clean(value: Any) -> Any:
    """Replace lone surrogates (from ``\\ud800`` escapes or invalid bytes) with U+FFFD, as Go does."""
    if isinstance(value, str):
        return _clean_string(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean_string(key): _clean(item) for key, item in value.items()}
    return value


def _location(path: str, text: str, pos: int) -> Location:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return Location(path, line, column)


def parse_template(data: bytes, path: str) -> tuple[dict[str, Any], Location | None]:
    """Decode a template as ``packer fix`` does; return it and where ignored trailing text starts.

    Raises :class:`TemplateError` (with file:line:col where known) for what Packer rejects with
    ``Error parsing template: ...``: bad JSON, an empty file, a number out of range, a top-level
    value that is not an object. ``null`` at the top level (which crashes Packer) is rejected too.
    """
    text = _decode_bytes(data)
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise TemplateError(Problem("the file is empty (Packer: EOF)", Location(path)))
    decoder = json.JSONDecoder(parse_float=_parse_number, parse_int=_parse_number, parse_constant=_reject_constant)
    try:
        value, end = decoder.raw_decode(text, start)
    except _NumberRangeError as exc:
        msg = f"json: cannot unmarshal number {exc.text} into Go value of type float64"
        raise TemplateError(Problem(msg, Location(path))) from None
    except json.JSONDecodeError as exc:
        raise TemplateError(Problem(f"invalid JSON: {exc.msg}", _location(path, text, exc.pos))) from None
    except ValueError as exc:
        raise TemplateError(Problem(f"invalid JSON: {exc}", Location(path))) from None
    except RecursionError:
        raise TemplateError(Problem("invalid JSON: nested too deeply", Location(path))) from None
    if not isinstance(value, dict):
        kind = "null" if value is None else _json_kind(value)
        msg = f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
        raise TemplateError(Problem(f"{msg} (a template must be a JSON object)", _location(path, text, start)))
    if _depth(value) > MAX_DEPTH:
        raise TemplateError(Problem(f"the template is nested more than {MAX_DEPTH} levels deep", Location(path)))
    rest = len(text) - len(text[end:].lstrip(" \t\r\n"))
    trailing = _location(path, text, rest) if rest < len(text) else None
    return _clean(value), trailing


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively, so any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def format_float(value: float) -> str:
    """A float64 as Go's JSON encoder writes it (shortest digits; exponent only outside [1e-6, 1e21))."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        text = repr(value)
        if "e" not in text:  # repr switches to exponents at 1e16 / 1e-4, so this cannot happen
            text = f"{value:e}"
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0] if exponent[0] in "+-" else "+"
        digits = exponent.lstrip("+-").lstrip("0") or "0"
        if sign == "+" and len(digits) < 2:
            digits = digits.rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _quote(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def _write(value: Any, indent: str, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, (int, float)):
        out.append(format_float(float(value)))
    elif isinstance(value, dict):
        _write_object(value, indent, out)
    elif isinstance(value, (list, tuple)):
        _write_array(list(value), indent, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _write_object(value: dict[str, Any], indent: str, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = indent + "  "
    out.append("{")
    for index, key in enumerate(sorted(value)):
        out.append(("," if index else "") + "\n" + inner + _quote(key) + ": ")
        _write(value[key], inner, out)
    out.append("\n" + indent + "}")


def _write_array(value: list[Any], indent: str, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = indent + "  "
    out.append("[")
    for index, item in enumerate(value):
        out.append(("," if index else "") + "\n" + inner)
        _write(item, inner, out)
    out.append("\n" + indent + "]")


def format_fixed(template: dict[str, Any]) -> str:
    """The text ``packer fix`` prints for a fixed template, ending in ``"}\\n\\n"``."""
    out: list[str] = []
    _write(template, "", out)
    text = "".join(out).replace("\\u003c", "<").replace("\\u003e", ">")
    return text + "\n\n"

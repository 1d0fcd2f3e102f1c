"""Read a JSON template (or var file) into :class:`JsonObject`/:class:`JsonArray` with positions.

The stdlib's pure-Python scanner does the parsing; this module only wraps its object and array
hooks to record where every key and value starts, to reject duplicate keys at any depth (as
Packer 1.6.6 does, ``template has duplicate field: X``, but with each one's line and column),
and to word syntax errors the way Go's ``encoding/json`` does, with a caret excerpt like
Packer's ``highlightPosition`` but prefixed with ``file:line:col``.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
import sys
from collections.abc import Callable
from typing import Any

from imagesmith.errors import Location, Problem, TemplateError
from imagesmith.template.positions import JsonArray, JsonObject

_SKIP_TO_KEY = re.compile(r"[ \t\n\r,]*")
_WS = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
ScanOnce = Callable[[str, int], tuple[Any, int]]
# Not in typeshed, but public and stable since Python 2.6.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
_json_object: Callable[..., tuple[Any, int]] = getattr(json.decoder, "JSONObject")  # noqa: B009
_json_array: Callable[..., tuple[Any, int]] = getattr(json.decoder, "JSONArray")  # noqa: B009
_make_scanner: Callable[[Any], ScanOnce] = getattr(json.scanner, "py_make_scanner")  # noqa: B009


class _Positions:
    """Offset → (line, column) for one text; columns count characters, 1-based."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_left(self.newlines, offset)
        start = self.newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    def loc(self, offset: int) -> Location:
        line, col = self.line_col(offset)
        return Location(self.file, line, col)


class _Context:
    """What ``json.scanner.py_make_scanner`` reads, with position-recording object/array hooks."""

    def __init__(self, pos: _Positions) -> None:
        self.pos = pos
        self.problems: list[Problem] = []
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.parse_float = self._parse_float
        self.parse_int = int
        self.parse_constant = self._parse_constant
        self.memo: dict[str, str] = {}
        self.parse_string = self._parse_string
        self.parse_object = self._parse_object
        self.parse_array = self._parse_array

    def _parse_constant(self, name: str) -> Any:
        raise StopIteration(-1)  # NaN/Infinity are not JSON; reported as "looking for beginning of value"

    def _parse_float(self, text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            self.problems.append(Problem(f"json: cannot unmarshal number {text} into Go value of type float64"))
        return value

    @staticmethod
    def _parse_string(s: str, end: int, strict: bool) -> tuple[str, int]:
        value, end = _scanstring(s, end, strict)
        return _fix_surrogates(value), end

    def _parse_object(
        self,
        s_and_end: tuple[str, int],
        strict: bool,
        scan_once: ScanOnce,
        object_hook: Any,
        object_pairs_hook: Any,
        memo: Any,
    ) -> tuple[JsonObject, int]:
        s, start = s_and_end
        spans: list[tuple[int, int]] = []

        def recording_scan(string: str, idx: int) -> tuple[Any, int]:
            value, end = _scan_at(scan_once, string, idx)
            spans.append((idx, end))
            return value, end

        try:
            pairs, end = _json_object(s_and_end, strict, recording_scan, None, _identity, memo)
        except json.JSONDecodeError as exc:
            _tag(exc, "object")
            raise
        obj = JsonObject()
        obj.loc = self.pos.loc(start - 1)
        prev = start
        for (key, value), (vstart, vend) in zip(pairs, spans, strict=True):
            key = _fix_surrogates(key)
            kpos = _SKIP_TO_KEY.match(s, prev).end()  # type: ignore[union-attr]
            if key in obj:
                self.problems.append(Problem(f"template has duplicate field: {key}", self.pos.loc(kpos)))
            obj[key] = value
            obj.locs[key] = self.pos.loc(vstart)
            obj.key_locs[key] = self.pos.loc(kpos)
            prev = vend
        return obj, end

    def _parse_array(self, s_and_end: tuple[str, int], scan_once: ScanOnce) -> tuple[JsonArray, int]:
        starts: list[int] = []

        def recording_scan(string: str, idx: int) -> tuple[Any, int]:
            value, end = _scan_at(scan_once, string, idx)
            starts.append(idx)
            return value, end

        try:
            values, end = _json_array(s_and_end, recording_scan)
        except json.JSONDecodeError as exc:
            _tag(exc, "array")
            raise
        arr = JsonArray(values)
        arr.loc = self.pos.loc(s_and_end[1] - 1)
        arr.locs = [self.pos.loc(i) for i in starts]
        return arr, end


def _scan_at(scan_once: ScanOnce, string: str, idx: int) -> tuple[Any, int]:
    try:
        return scan_once(string, idx)
    except StopIteration as stop:
        if stop.value == -1:  # from _parse_constant, which doesn't know where it is
            raise StopIteration(idx) from None
        raise


def _identity(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return pairs


def _tag(exc: json.JSONDecodeError, kind: str) -> None:
    if not hasattr(exc, "container"):
        exc.container = kind  # type: ignore[attr-defined]


def _fix_surrogates(text: str) -> str:
    """Lone ``\\udXXX`` escapes become U+FFFD, as in Go (Python would keep unprintable surrogates)."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def parse_json(text: str, file: str) -> Any:
    """Parse ``text`` (named ``file`` in messages) into positioned values; raise TemplateError on any problem."""
    text = _fix_surrogates(text)  # only possible from a str caller; files are decoded with replacement
    pos = _Positions(file, text)
    ctx = _Context(pos)
    scan = _make_scanner(ctx)
    idx = _WS.match(text, 0).end()  # type: ignore[union-attr]
    try:
        try:
            value, end = scan(text, idx)
        except StopIteration as stop:
            at = idx if stop.value == -1 else stop.value
            raise json.JSONDecodeError("Expecting value", text, at) from None
        end = _WS.match(text, end).end()  # type: ignore[union-attr]
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except json.JSONDecodeError as exc:
        raise TemplateError(_syntax_problem(exc, pos)) from None
    except RecursionError:
        raise TemplateError(Problem("Error parsing JSON: nested too deeply", pos.loc(idx))) from None
    if ctx.problems:
        raise TemplateError([p if p.location else Problem(p.message, pos.loc(0)) for p in ctx.problems])
    return value


def read_text(path: str) -> str:
    """The contents of ``path`` (``-`` is stdin), decoded as UTF-8 with bad bytes replaced, as Go does."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except FileNotFoundError:
        raise TemplateError(f"open {path}: no such file or directory") from None
    except IsADirectoryError:
        raise TemplateError(
            f"{path} is a directory; imagesmith reads JSON templates only (HCL2 is not supported)"
        ) from None
    except OSError as exc:
        raise TemplateError(f"open {path}: {exc.strerror or exc}") from None
    return data.decode("utf-8", "replace")


def load_json(path: str) -> Any:
    """Read and parse the JSON file at ``path`` (``-`` = stdin); raise TemplateError with locations."""
    name = "<stdin>" if path == "-" else path
    return parse_json(read_text(path), name)


# --- syntax errors, worded as Go's encoding/json words them -------------------------------------

_GO_CONTEXT = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Extra data": "after top-level value",
}


_LITERALS = {"n": "null", "t": "true", "f": "false"}


def _syntax_problem(exc: json.JSONDecodeError, pos: _Positions) -> Problem:
    text, at = exc.doc, exc.pos
    message, at = _literal_or_number(exc.msg, text, at)
    if not message:
        message = _go_message(exc.msg, text, at, getattr(exc, "container", ""))
    if message.startswith("unexpected end"):
        at = len(text)
    return Problem(f"Error parsing JSON: {message}\n{_excerpt(pos, at)}", pos.loc(at))


def _literal_or_number(msg: str, text: str, at: int) -> tuple[str, int]:
    """Go's wording for a broken ``null``/``true``/``false`` or number, and where Go points (or "")."""
    char = text[at : at + 1]
    if msg == "Expecting value" and char in _LITERALS:
        literal = _LITERALS[char]
        k = next(i for i, c in enumerate(literal) if text[at + i : at + i + 1] != c)
        if at + k >= len(text):
            return "unexpected end of JSON input", len(text)
        bad = _go_quote_char(text[at + k])
        return f"invalid character {bad} in literal {literal} (expecting {_go_quote_char(literal[k])})", at + k
    if msg == "Expecting value" and char == "-":
        if at + 1 >= len(text):
            return "unexpected end of JSON input", len(text)
        return f"invalid character {_go_quote_char(text[at + 1])} in numeric literal", at + 1
    if char in (".", "e", "E") and at > 0 and text[at - 1].isdigit() and msg != "Expecting value":
        where = "after decimal point in" if char == "." else "in exponent of"
        nxt = at + 1 + (char != "." and text[at + 1 : at + 2] in ("+", "-"))
        if nxt >= len(text):
            return "unexpected end of JSON input", len(text)
        return f"invalid character {_go_quote_char(text[nxt])} {where} numeric literal", nxt
    return "", at


def _go_message(msg: str, text: str, at: int, container: str) -> str:
    if msg.startswith("Unterminated string") or at >= len(text):
        return "unexpected end of JSON input"
    char = _go_quote_char(text[at])
    if msg == "Expecting ',' delimiter":
        where = "after array element" if container == "array" else "after object key:value pair"
        return f"invalid character {char} {where}"
    if msg.startswith("Invalid control character"):
        return f"invalid character {char} in string literal"
    if msg.startswith("Invalid \\escape"):
        nxt = _go_quote_char(text[at + 1]) if at + 1 < len(text) else "''"
        return f"invalid character {nxt} in string escape code"
    if msg.startswith("Invalid \\u"):
        return "invalid character in \\u hexadecimal character escape"
    return f"invalid character {char} {_GO_CONTEXT.get(msg, msg)}"


def _go_quote_char(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    return "'" + json.dumps(c, ensure_ascii=False)[1:-1] + "'"


def _excerpt(pos: _Positions, at: int) -> str:
    """The previous and the offending line, and a caret under the offending character."""
    line, col = pos.line_col(at)
    lines = pos.text.split("\n")
    out = []
    if line > 1:
        out.append(f"{line - 1:5d}: {lines[line - 2]}")
    current = lines[line - 1] if line - 1 < len(lines) else ""
    out.append(f"{line:5d}: {current}")
    pad = "".join("\t" if c == "\t" else " " for c in current[: col - 1])
    out.append(" " * 7 + pad + "^")
    return "\n".join(out)

"""A JSON parser that keeps what HCL JSON needs: property order, duplicate names, exact numbers, ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.numbers import parse_number
from imagesmith.hcl2.source import Range, SourceFile


@dataclass(eq=False)
class JNode:
    range: Range


@dataclass(eq=False)
class JProp:
    name: str
    name_range: Range
    value: JNode


@dataclass(eq=False)
class JObject(JNode):
    props: list[JProp]
    open_range: Range
    close_range: Range


@dataclass(eq=False)
class JArray(JNode):
    items: list[JNode]


@dataclass(eq=False)
class JString(JNode):
    value: str


@dataclass(eq=False)
class JNumber(JNode):
    text: str


@dataclass(eq=False)
class JKeyword(JNode):
    word: str  # true, false, null


_TOKEN = re.compile(
    r'(?P<ws>[ \t\r\n]+)|(?P<str>"(?:[^"\\\x00-\x1f]|\\.)*")'
    r"|(?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<kw>true|false|null)|(?P<p>[{}\[\]:,])",
    re.DOTALL,
)
_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _JSONSyntaxError(Exception):
    def __init__(self, summary: str, detail: str, rng: Range) -> None:
        super().__init__(summary)
        self.summary, self.detail, self.rng = summary, detail, rng


class _Parser:
    def __init__(self, source: SourceFile) -> None:
        self.src = source
        self.text = source.text
        self.pos = 0

    def _skip(self) -> None:
        m = _TOKEN.match(self.text, self.pos)
        while m is not None and m.lastgroup == "ws":
            self.pos = m.end()
            m = _TOKEN.match(self.text, self.pos)

    def _rng(self, a: int, b: int) -> Range:
        return Range(self.src, a, b)

    def _peek(self) -> re.Match[str] | None:
        self._skip()
        return _TOKEN.match(self.text, self.pos)

    def _fail(self, summary: str, detail: str) -> _JSONSyntaxError:
        end = min(len(self.text), self.pos + 1)
        return _JSONSyntaxError(summary, detail, self._rng(self.pos, end))

    def value(self) -> JNode:
        m = self._peek()
        if m is None:
            if self.pos >= len(self.text):
                raise self._fail("Missing JSON value", "A JSON value must start here.")
            raise self._fail("Syntax error", f"Invalid character {self.text[self.pos]!r}.".replace("'", '"'))
        kind, start, end = m.lastgroup, m.start(), m.end()
        if kind == "p":
            if m.group() == "{":
                return self._object()
            if m.group() == "[":
                return self._array()
            raise self._fail("Invalid JSON value", "A JSON value must start with a brace, a bracket, a number, a "
                             "string, or a keyword.")
        self.pos = end
        rng = self._rng(start, end)
        if kind == "str":
            return JString(rng, self._decode(m.group()[1:-1], start))
        if kind == "num":
            return JNumber(rng, m.group())
        return JKeyword(rng, m.group())

    def _decode(self, body: str, start: int) -> str:
        if "\\" not in body:
            return body
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            sel = body[i + 1]
            if sel == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
            elif sel in _ESC:
                out.append(_ESC[sel])
                i += 2
            else:
                raise _JSONSyntaxError("Invalid escape sequence", f'"\\{sel}" is not a valid escape sequence.',
                                       self._rng(start + 1 + i, start + 3 + i))
        return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "replace")

    def _object(self) -> JObject:
        open_start = self.pos
        self.pos += 1
        props: list[JProp] = []
        while True:
            m = self._peek()
            if m is not None and m.group() == "}" and not props:
                break
            if m is None or m.lastgroup != "str":
                raise self._fail("Invalid object property name", "A JSON object property name must be a string.")
            name = self.value()
            assert isinstance(name, JString)
            m = self._peek()
            if m is None or m.group() != ":":
                raise self._fail("Missing property value colon",
                                 "JSON uses a colon as its name/value delimiter, not an equals sign.")
            self.pos = m.end()
            props.append(JProp(name.value, name.range, self.value()))
            m = self._peek()
            if m is not None and m.group() == ",":
                self.pos = m.end()
                continue
            if m is not None and m.group() == "}":
                break
            raise self._fail("Missing attribute seperator comma",
                             "A comma must appear between each property definition in an object.")
        close = self._rng(self.pos, self.pos + 1)
        self.pos += 1
        return JObject(self._rng(open_start, self.pos), props, self._rng(open_start, open_start + 1), close)

    def _array(self) -> JArray:
        start = self.pos
        self.pos += 1
        items: list[JNode] = []
        while True:
            m = self._peek()
            if m is not None and m.group() == "]" and not items:
                break
            items.append(self.value())
            m = self._peek()
            if m is not None and m.group() == ",":
                self.pos = m.end()
                continue
            if m is not None and m.group() == "]":
                break
            raise self._fail("Missing array element separator comma",
                             "A comma must appear between each element in an array.")
        self.pos += 1
        return JArray(self._rng(start, self.pos), items)


def parse_json(text: str | bytes, filename: str) -> tuple[JNode | None, SourceFile, Diagnostics]:
    """Parse JSON text; on a syntax error return None and the diagnostic."""
    source = SourceFile.from_bytes(filename, text) if isinstance(text, bytes) else SourceFile(filename, text)
    parser = _Parser(source)
    diags = Diagnostics()
    try:
        node = parser.value()
        parser._skip()
        if parser.pos < len(parser.text):
            raise parser._fail("Extraneous data after value", "Extra characters appear after the JSON value.")
    except _JSONSyntaxError as exc:
        diags.add(exc.summary, exc.detail, exc.rng)
        return None, source, diags
    return node, source, diags


def number_of(node: JNumber) -> object:
    return parse_number(node.text)

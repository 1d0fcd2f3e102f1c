"""Source files, positions and ranges, computed lazily from character offsets.

HCL reports positions as line, column and byte offset, where a column counts grapheme clusters
(not bytes or code points). Tokens only store character offsets; a :class:`Pos` is made when
asked for, so scanning stays cheap.
"""

from __future__ import annotations

import bisect
import itertools
import unicodedata
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column and a 0-based byte offset."""

    line: int
    column: int
    byte: int


def _is_extender(ch: str) -> bool:
    """Whether ``ch`` continues the grapheme cluster before it (an approximation of UAX #29)."""
    o = ord(ch)
    if o < 0x300:
        return False
    if o == 0x200D or 0xFE00 <= o <= 0xFE0F or 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F:
        return True
    return unicodedata.category(ch) in ("Mn", "Me", "Mc")


def _is_pictographic(ch: str) -> bool:
    o = ord(ch)
    return 0x1F000 <= o <= 0x1FAFF or 0x2600 <= o <= 0x27BF or 0x2190 <= o <= 0x21FF or 0x2B00 <= o <= 0x2BFF


def count_graphemes(text: str) -> int:
    """The number of grapheme clusters in ``text`` (CRLF, combining marks, ZWJ emoji sequences)."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    n = 0
    prev = ""
    join_next = False
    for ch in text:
        if (join_next and _is_pictographic(ch)) or (prev == "\r" and ch == "\n") or (n and _is_extender(ch)):
            join_next = ch == "\u200d"
            prev = ch
            continue
        join_next = False
        n += 1
        prev = ch
    return n


class SourceFile:
    """The text of one file (or string) with its name; maps character offsets to positions."""

    def __init__(self, name: str, text: str, start_line: int = 1, start_byte: int = 0, start_column: int = 1) -> None:
        """``start_*`` place the text inside a larger file (a template inside a JSON string)."""
        self.name = name
        self.text = text
        self.start_line = start_line
        self.start_byte = start_byte
        self.start_column = start_column
        # Offsets where a token boundary splits what would be one grapheme cluster: Go HCL counts
        # each token's columns on its own, so a cluster never spans two tokens.
        self.breaks: list[int] = []

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> SourceFile:
        """Decode UTF-8 leniently: invalid bytes become lone surrogates the scanner reports."""
        return cls(name, data.decode("utf-8", "surrogateescape"))

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return starts

    @cached_property
    def _ascii(self) -> bool:
        return self.text.isascii()

    @cached_property
    def _line_byte_starts(self) -> list[int]:
        out = []
        total = 0
        prev = 0
        for start in self._line_starts:
            total += _utf8_len(self.text[prev:start])
            out.append(total)
            prev = start
        return out

    def pos(self, offset: int) -> Pos:
        """The position of character ``offset``."""
        idx = bisect.bisect_right(self._line_starts, offset) - 1
        start = self._line_starts[idx]
        shift = self.start_column - 1 if idx == 0 else 0
        if self._ascii:
            return Pos(idx + self.start_line, offset - start + 1 + shift, offset + self.start_byte)
        segment = self.text[start:offset]
        byte = self._line_byte_starts[idx] + _utf8_len(segment)
        cuts = [b for b in self.breaks if start < b < offset] if self.breaks else []
        if cuts:
            bounds = [start, *cuts, offset]
            columns = sum(count_graphemes(self.text[a:b]) for a, b in itertools.pairwise(bounds))
        else:
            columns = count_graphemes(segment)
        if idx == 0 and offset > 0 and self.text.startswith("\ufeff"):
            columns -= 1  # a byte order mark is skipped: it has bytes but no column
        return Pos(idx + self.start_line, columns + 1 + shift, byte + self.start_byte)

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline."""
        idx = line - self.start_line
        if not 0 <= idx < len(self._line_starts):
            return ""
        start = self._line_starts[idx]
        end = self._line_starts[idx + 1] if idx + 1 < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")


def _utf8_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogateescape"))


class Range:
    """A span of a source file, from character ``start`` to ``end`` (exclusive)."""

    __slots__ = ("end", "source", "start")

    def __init__(self, source: SourceFile, start: int, end: int) -> None:
        self.source = source
        self.start = start
        self.end = end

    @property
    def filename(self) -> str:
        return self.source.name

    @property
    def start_pos(self) -> Pos:
        return self.source.pos(self.start)

    @property
    def end_pos(self) -> Pos:
        return self.source.pos(self.end)

    @property
    def line(self) -> int:
        return self.start_pos.line

    @property
    def column(self) -> int:
        return self.start_pos.column

    @property
    def byte(self) -> int:
        return self.start_pos.byte

    def to(self, other: Range) -> Range:
        """The range from the start of this one to the end of ``other``."""
        start = self.start if self.start < other.start else other.start
        end = self.end if self.end > other.end else other.end
        return Range(self.source, start, end)

    def empty_at_end(self) -> Range:
        return Range(self.source, self.end, self.end)

    def empty_at_start(self) -> Range:
        return Range(self.source, self.start, self.start)

    def __str__(self) -> str:
        s, e = self.start_pos, self.end_pos
        if s.line == e.line:
            return f"{self.filename}:{s.line},{s.column}-{e.column}"
        return f"{self.filename}:{s.line},{s.column}-{e.line},{e.column}"

    def __repr__(self) -> str:
        return f"Range({self})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return (self.source.name, self.start, self.end) == (other.source.name, other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.source.name, self.start, self.end))

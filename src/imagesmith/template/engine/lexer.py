"""Tokenizer for Go ``text/template`` source, following Go 1.19's lexer rule by rule.

The lexer never raises: a lexical error becomes a final ``ERROR`` token, so the parser
reports whichever problem comes first in the text, as Go's does.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from imagesmith.template.engine.quoting import go_char_repr, go_quote

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
SPACE_CHARS = " \t\r\n"


class Tok(enum.Enum):
    """Token kinds (Go's ``itemType``)."""

    ERROR = enum.auto()
    EOF = enum.auto()
    TEXT = enum.auto()
    LEFT_DELIM = enum.auto()
    RIGHT_DELIM = enum.auto()
    SPACE = enum.auto()
    ASSIGN = enum.auto()
    DECLARE = enum.auto()
    PIPE = enum.auto()
    STRING = enum.auto()
    RAW_STRING = enum.auto()
    CHAR_CONSTANT = enum.auto()
    NUMBER = enum.auto()
    COMPLEX = enum.auto()
    BOOL = enum.auto()
    NIL = enum.auto()
    DOT = enum.auto()
    FIELD = enum.auto()
    VARIABLE = enum.auto()
    IDENTIFIER = enum.auto()
    LEFT_PAREN = enum.auto()
    RIGHT_PAREN = enum.auto()
    CHAR = enum.auto()
    KEYWORD = enum.auto()


_ASCII_ALNUM_RUN = re.compile(r"[A-Za-z0-9_]+")
_SPACE_RUN = re.compile(r"[ \t\r\n]+")

_COMMON = re.compile(
    r"(?P<space>[ \t\r\n]+)|(?P<field>\.[A-Za-z_]\w*)|(?P<var>\$\w+)|(?P<word>[A-Za-z_]\w*)"
    r'|(?P<string>"(?:[^"\\\n]|\\[^\n])*")|(?P<raw>`[^`]*`)|(?P<pipe>\|)',
    re.ASCII,
)
_TERMINATORS = frozenset(" \t\r\n.,|:()")
_WORD_KINDS = {"true": Tok.BOOL, "false": Tok.BOOL, "nil": Tok.NIL}

KEYWORDS = frozenset({"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"})


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its source text (or error message) and its byte... character offset."""

    kind: Tok
    val: str
    pos: int

    def describe(self) -> str:
        """How Go's ``item.String()`` shows a token in ``unexpected X in Y`` messages."""
        if self.kind is Tok.EOF:
            return "EOF"
        if self.kind is Tok.ERROR:
            return self.val
        if self.kind in (Tok.KEYWORD, Tok.DOT, Tok.NIL):  # Go lists "." and nil among its keywords
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def is_space(ch: str) -> bool:
    return ch in SPACE_CHARS and ch != ""


def is_alnum(ch: str) -> bool:
    """Go's isAlphaNumeric: '_', a Unicode letter (L*) or a decimal digit (Nd)."""
    if ch.isascii():
        return ch == "_" or ch.isalnum()
    category = unicodedata.category(ch)
    return category[0] == "L" or category == "Nd"


def _has_left_trim(text: str, pos: int) -> bool:
    return text[pos : pos + 1] == "-" and is_space(text[pos + 1 : pos + 2])


def _has_right_trim(text: str, pos: int) -> bool:
    return is_space(text[pos : pos + 1]) and text[pos + 1 : pos + 2] == "-"


class Lexer:
    """Turns template text into a list of tokens (ending with EOF or ERROR)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        self.paren_depth = 0
        self.action_start = 0

    def run(self) -> list[Token]:
        """Lex the whole text."""
        while self._lex_text():
            if not self._lex_action():
                break
        return self.tokens

    def _emit(self, kind: Tok, start: int, end: int | None = None) -> None:
        self.tokens.append(Token(kind, self.text[start : self.pos if end is None else end], start))

    def _error(self, msg: str, pos: int | None = None) -> bool:
        self.tokens.append(Token(Tok.ERROR, msg, self.pos if pos is None else pos))
        return False

    def _at_right_delim(self) -> tuple[bool, bool]:
        t, p = self.text, self.pos
        if _has_right_trim(t, p) and t.startswith(RIGHT_DELIM, p + 2):
            return True, True
        return t.startswith(RIGHT_DELIM, p), False

    def _skip_leading_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in SPACE_CHARS:
            self.pos += 1

    def _lex_text(self) -> bool:
        """Text up to the next action. Returns False at EOF (EOF token emitted)."""
        t = self.text
        while True:
            x = t.find(LEFT_DELIM, self.pos)
            if x < 0:
                if self.pos < len(t):
                    self._emit(Tok.TEXT, self.pos, len(t))
                self.pos = len(t)
                self.tokens.append(Token(Tok.EOF, "", self.pos))
                return False
            end = x
            if _has_left_trim(t, x + 2):
                end = len(t[self.pos : x].rstrip(SPACE_CHARS)) + self.pos
            if end > self.pos:
                self._emit(Tok.TEXT, self.pos, end)
            self.pos = x + 2
            trim = _has_left_trim(t, self.pos)
            after = self.pos + (2 if trim else 0)
            if not t.startswith(LEFT_COMMENT, after):
                self.tokens.append(Token(Tok.LEFT_DELIM, LEFT_DELIM, x))
                self.action_start = x
                self.pos = after
                self.paren_depth = 0
                return True
            if not self._lex_comment(after):
                self.pos = len(t)
                return False

    def _lex_comment(self, start: int) -> bool:
        self.pos = start + 2
        x = self.text.find(RIGHT_COMMENT, self.pos)
        if x < 0:
            return self._error("unclosed comment")
        self.pos = x + 2
        delim, trim = self._at_right_delim()
        if not delim:
            return self._error("comment ends before closing delimiter")
        self.pos += (2 if trim else 0) + 2
        if trim:
            self._skip_leading_space()
        return True

    def _lex_action(self) -> bool:
        """Tokens inside ``{{ }}``. Returns False when an error token ended lexing."""
        t = self.text
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.paren_depth:
                    return self._error("unclosed left paren")
                start = self.pos + (2 if trim else 0)
                self.tokens.append(Token(Tok.RIGHT_DELIM, RIGHT_DELIM, start))
                self.pos = start + 2
                if trim:
                    self._skip_leading_space()
                return True
            if self.pos >= len(t):
                return self._error("unclosed action", self.action_start)
            if self._lex_common():
                continue
            if not self._lex_one(t[self.pos]):
                return False

    def _lex_common(self) -> bool:
        """Fast path for the tokens most templates consist of; False leaves the text to the
        rule-by-rule path (which also produces every error)."""
        t, start = self.text, self.pos
        m = _COMMON.match(t, start)
        if m is None:
            return False
        end = m.end()
        group = m.lastgroup
        if group == "space":
            if t[end : end + 1] == "-" and t.startswith(RIGHT_DELIM, end + 1):
                return False  # a trim marker " -}}" follows
            kind = Tok.SPACE
        elif group == "pipe":
            kind = Tok.PIPE
        elif group == "string":
            kind = Tok.STRING
        elif group == "raw":
            kind = Tok.RAW_STRING
        else:
            nxt = t[end : end + 1]
            if nxt and nxt not in _TERMINATORS and not t.startswith(RIGHT_DELIM, end):
                return False
            word = m.group()
            if group == "field":
                kind = Tok.FIELD
            elif group == "var":
                kind = Tok.VARIABLE
            elif word in KEYWORDS:
                kind = Tok.KEYWORD
            else:
                kind = _WORD_KINDS.get(word, Tok.IDENTIFIER)
        self.tokens.append(Token(kind, t[start:end], start))
        self.pos = end
        return True

    def _lex_one(self, ch: str) -> bool:  # one branch per character class, as in Go
        start = self.pos
        nxt = self.text[start + 1 : start + 2]
        if is_space(ch):
            return self._lex_space()
        simple = {"=": Tok.ASSIGN, "|": Tok.PIPE, "(": Tok.LEFT_PAREN, ")": Tok.RIGHT_PAREN}
        if ch in simple:
            self.pos += 1
            self._emit(simple[ch], start)
            if ch == "(":
                self.paren_depth += 1
            elif ch == ")":
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    return self._error(f"unexpected right paren {go_char_repr(ch)}")
            return True
        if ch == ":":
            if nxt != "=":
                self.pos += 2 if nxt else 1
                return self._error("expected :=")
            self.pos += 2
            self._emit(Tok.DECLARE, start)
            return True
        if ch == '"':
            return self._lex_quote('"', Tok.STRING, "unterminated quoted string")
        if ch == "`":
            return self._lex_raw()
        if ch == "'":
            return self._lex_quote("'", Tok.CHAR_CONSTANT, "unterminated character constant")
        if ch == "$":
            return self._lex_field_or_var(Tok.VARIABLE)
        if ch == "." and not ("0" <= nxt <= "9" and nxt):
            return self._lex_field_or_var(Tok.FIELD)
        if ch in "+-." or "0" <= ch <= "9":
            return self._lex_number()
        if is_alnum(ch):
            return self._lex_identifier()
        if ord(ch) < 0x80 and ch.isprintable():
            self.pos += 1
            self._emit(Tok.CHAR, start)
            return True
        self.pos += 1
        return self._error(f"unrecognized character in action: {go_char_repr(ch)}")

    def _lex_space(self) -> bool:
        start = self.pos
        t = self.text
        m = _SPACE_RUN.match(t, start)
        self.pos = m.end() if m else start + 1
        if _has_right_trim(t, self.pos - 1) and t.startswith(RIGHT_DELIM, self.pos + 1):
            self.pos -= 1
            if self.pos == start:
                return True
        self._emit(Tok.SPACE, start)
        return True

    def _lex_quote(self, quote: str, kind: Tok, unterminated: str) -> bool:
        start = self.pos
        t = self.text
        self.pos += 1
        while True:
            ch = t[self.pos : self.pos + 1]
            self.pos += 1
            if ch == "\\":
                ch = t[self.pos : self.pos + 1]
                self.pos += 1
                if ch and ch != "\n":
                    continue
            if ch in ("", "\n"):
                self.pos = min(self.pos, len(t))
                return self._error(unterminated, start)
            if ch == quote:
                break
        self._emit(kind, start)
        return True

    def _lex_raw(self) -> bool:
        start = self.pos
        x = self.text.find("`", start + 1)
        if x < 0:
            self.pos = len(self.text)
            return self._error("unterminated raw quoted string", start)
        self.pos = x + 1
        self._emit(Tok.RAW_STRING, start)
        return True

    def _scan_alnum(self) -> None:
        t = self.text
        while True:
            m = _ASCII_ALNUM_RUN.match(t, self.pos)
            if m:
                self.pos = m.end()
            if self.pos < len(t) and not t[self.pos].isascii() and is_alnum(t[self.pos]):
                self.pos += 1
                continue
            return

    def _at_terminator(self) -> bool:
        t, p = self.text, self.pos
        if p >= len(t):
            return True
        ch = t[p]
        if is_space(ch) or ch in ".,|:()":
            return True
        return t.startswith(RIGHT_DELIM, p)

    def _lex_field_or_var(self, kind: Tok) -> bool:
        start = self.pos
        self.pos += 1
        if self._at_terminator():
            self._emit(Tok.DOT if kind is Tok.FIELD else Tok.VARIABLE, start)
            return True
        self._scan_alnum()
        if not self._at_terminator():
            self.pos += 1
            return self._error(f"bad character {go_char_repr(self.text[self.pos - 1])}", self.pos - 1)
        self._emit(kind, start)
        return True

    def _lex_identifier(self) -> bool:
        start = self.pos
        self._scan_alnum()
        if not self._at_terminator():
            self.pos += 1
            return self._error(f"bad character {go_char_repr(self.text[self.pos - 1])}", self.pos - 1)
        word = self.text[start : self.pos]
        if word in KEYWORDS:
            kind = Tok.KEYWORD
        elif word in ("true", "false"):
            kind = Tok.BOOL
        elif word == "nil":
            kind = Tok.NIL
        else:
            kind = Tok.IDENTIFIER
        self._emit(kind, start)
        return True

    def _accept(self, chars: str) -> bool:
        if self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
            return True
        return False

    def _accept_run(self, chars: str) -> None:
        while self._accept(chars):
            pass

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if self.pos < len(self.text) and is_alnum(self.text[self.pos]):
            self.pos += 1
            return False
        return True

    def _lex_number(self) -> bool:
        start = self.pos
        if not self._scan_number():
            return self._error(f"bad number syntax: {go_quote(self.text[start : self.pos])}", start)
        if self.text[self.pos : self.pos + 1] in ("+", "-") and self.pos < len(self.text):
            if not self._scan_number() or self.text[self.pos - 1] != "i":
                return self._error(f"bad number syntax: {go_quote(self.text[start : self.pos])}", start)
            self._emit(Tok.COMPLEX, start)
            return True
        self._emit(Tok.NUMBER, start)
        return True


def lex(text: str) -> list[Token]:
    """Tokenize ``text``; the last token is EOF or ERROR."""
    return Lexer(text).run()

"""The HCL native syntax scanner: text to tokens, with Go HCL's modes and token types.

The scanner is modal like ``hclsyntax/scan_tokens.rl``: the main mode scans expressions and
structure; a quoted string or a heredoc switches to a template mode, and ``${``/``%{`` inside a
template switch back to the main mode until the matching ``}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imagesmith.hcl2.source import Range, SourceFile

# Token types: the same set (and meaning) as Go HCL's TokenType constants.
OBRACE, CBRACE, OBRACK, CBRACK, OPAREN, CPAREN = "{", "}", "[", "]", "(", ")"
OQUOTE, CQUOTE, OHEREDOC, CHEREDOC = "«", "»", "H", "h"
STAR, SLASH, PLUS, MINUS, PERCENT = "*", "/", "+", "-", "%"
EQUAL, EQUALOP, NOTEQUAL, LT, LTE, GT, GTE = "=", "==", "!=", "<", "<=", ">", ">="
AND, OR, BANG, DOT, COMMA, DOUBLECOLON, ELLIPSIS, FATARROW = "&&", "||", "!", ".", ",", "::", "...", "=>"
QUESTION, COLON = "?", ":"
TEMPLATE_INTERP, TEMPLATE_CONTROL, TEMPLATE_SEQ_END = "${", "%{", "~}"
QUOTED_LIT, STRING_LIT, NUMBER_LIT, IDENT, COMMENT, NEWLINE, EOF = "Q", "S", "N", "I", "C", "\n", "EOF"
BIT_AND, BIT_OR, BIT_NOT, BIT_XOR = "&", "|", "~", "^"
APOSTROPHE, BACKTICK, SEMICOLON = "'", "`", ";"
INVALID, BAD_UTF8, QUOTED_NEWLINE, NIL = "INVALID", "BADUTF8", "QNEWLINE", "NIL"

_SELF = frozenset("[]().,*/%+-=<>!?:\n&|~^;`'")


class Token(Range):
    """One token: its type, its text, and (being a Range) its span in ``source``."""

    __slots__ = ("text", "type")

    def __init__(self, ty: str, text: str, start: int, end: int, source: SourceFile) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.type = ty
        self.text = text

    @property
    def range(self) -> Range:
        return self

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.text!r}, {self.start}, {self.end})"


_MAIN = re.compile(
    r"""(?P<sp>[ \t]+)
    |(?P<num>[0-9](?:(?:[0-9.]|[eE][+-]?[0-9])*(?:[0-9]|[eE][+-]?[0-9]))?)
    |(?P<id>[A-Za-z_][A-Za-z0-9_\-]*)
    |(?P<cmt>\#[^\n]*\n?|//[^\n]*\n?|/\*.*?\*/)
    |(?P<nl>\r?\n)
    |(?P<op>==|!=|>=|<=|&&|\|\||::|\.\.\.|=>|~\})
    |(?P<hd><<-?(?P<marker>[^\W\d][\w\-]*)\r?\n)
    """,
    re.VERBOSE | re.DOTALL,
)
# The stateless main-mode tokens, for the scanner's fast path ("" means: the text is the type).
_FAST = re.compile(
    r"""(?P<sp>[ \t]+)
    |(?P<num>[0-9](?:(?:[0-9.]|[eE][+-]?[0-9])*(?:[0-9]|[eE][+-]?[0-9]))?)
    |(?P<id>[A-Za-z_][A-Za-z0-9_\-]*)
    |(?P<nl>\r?\n)
    |(?P<op>==|!=|>=|<=|&&|\|\||::|\.\.\.|=>)
    |(?P<self>[\[\]().,*%+\-=>!?:&|^;`'])
    """,
    re.VERBOSE,
)
_SIMPLE_KINDS = {"num": NUMBER_LIT, "id": IDENT, "nl": NEWLINE, "op": "", "self": ""}
_KIND_TYPES = {"num": NUMBER_LIT, "id": IDENT, "cmt": COMMENT, "nl": NEWLINE}
_QUOTED_RUN = re.compile(r'(?:\\[^\r\n]|[^$%"\\\r\n\udc80-\udcff])+')
_HEREDOC_RUN = re.compile(r"[^$%\r\n\udc80-\udcff]*(\r?\n)?")
_BARE_RUN = re.compile(r"[^$%\r\n\udc80-\udcff]*(\r?\n)?")
_NEWLINES = re.compile(r"[\r\n]+")


def _is_id_start(ch: str) -> bool:
    return ch == "_" or ch.isidentifier()


def _is_id_continue(ch: str) -> bool:
    return ch == "-" or ("a" + ch).isidentifier()


@dataclass
class _Heredoc:
    marker: str
    start_of_line: bool = True


@dataclass
class _State:
    braces: int = 0
    ret_braces: list[int] = field(default_factory=list)
    heredocs: list[_Heredoc] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)  # "main", "string", "heredoc", "bare"


class Scanner:
    """Scans one source file into a list of tokens ending with an EOF token."""

    def __init__(self, source: SourceFile, mode: str = "main") -> None:
        self.source = source
        self.text = source.text
        self.tokens: list[Token] = []
        self.st = _State(modes=[mode])
        self.pos = 1 if self.text.startswith("\ufeff") else 0

    def emit(self, ty: str, start: int, end: int) -> None:
        self.tokens.append(Token(ty, self.text[start:end], start, end, self.source))
        if ty in (INVALID, BAD_UTF8):  # one code point each: keep its column its own
            self.source.breaks.extend((start, end))

    def scan(self) -> list[Token]:
        """Scan the whole text."""
        text, n, source, tokens, modes = self.text, len(self.text), self.source, self.tokens, self.st.modes
        fast = _FAST.match
        simple = _SIMPLE_KINDS
        while self.pos < n:
            mode = modes[-1] if modes else "main"
            if mode == "main":
                # the common tokens inline; anything with state (braces, quotes, heredocs) in _scan_main
                pos = self.pos
                m = fast(text, pos)
                if m is not None:
                    end = m.end()
                    kind = m.lastgroup
                    if kind == "sp":
                        self.pos = end
                        continue
                    ty = simple.get(kind)  # type: ignore[arg-type]
                    if ty is not None and (kind != "id" or end >= n or text[end].isascii()):
                        tokens.append(Token(ty or m.group(), text[pos:end], pos, end, source))
                        self.pos = end
                        continue
                self.pos = self._scan_main(pos)
            elif mode == "string":
                self.pos = self._scan_string(self.pos)
            elif mode == "heredoc":
                self.pos = self._scan_heredoc(self.pos)
            else:
                self.pos = self._scan_bare(self.pos)
        self.emit(EOF, n, n)
        return self.tokens

    def _begin_seq(self, ty: str, start: int, end: int) -> int:
        self.emit(ty, start, end)
        self.st.braces += 1
        self.st.ret_braces.append(self.st.braces)
        if self.st.heredocs:
            self.st.heredocs[-1].start_of_line = False
        self.st.modes.append("main")
        return end

    def _template_start(self, pos: int) -> int:
        """``${``/``%{`` (with an optional ``~``) at ``pos``: their end, else -1."""
        text = self.text
        if text.startswith("${", pos) or text.startswith("%{", pos):
            end = pos + 3 if text.startswith("~", pos + 2) else pos + 2
            return self._begin_seq(TEMPLATE_INTERP if text[pos] == "$" else TEMPLATE_CONTROL, pos, end)
        return -1

    def _not_template(self, pos: int) -> int:
        """A ``$``/``%`` not starting a sequence (``$$`` escapes included): the literal's end, else -1."""
        text = self.text
        ch = text[pos]
        if ch not in "$%":
            return -1
        if text.startswith(ch + "{", pos + 1):
            return pos + 4 if text.startswith("~", pos + 3) else pos + 3
        return pos + 1

    def _scan_main(self, pos: int) -> int:
        text = self.text
        m = _MAIN.match(text, pos)
        ch = text[pos]
        if m is not None:
            kind = m.lastgroup
            end = m.end()
            if kind == "id" and end < len(text) and not text[end].isascii():
                end = self._ident_end(pos)
            if kind == "sp":
                return end
            if kind == "hd":
                return self._begin_heredoc(m)
            if kind == "op" and m.group() == "~}":
                return self._close_brace(pos, end, tilde=True)
            ty = _KIND_TYPES.get(kind or "") or m.group()
            self.emit(ty, pos, end)
            return end
        if ch in _SELF:
            self.emit(ch, pos, pos + 1)
        elif ch == "{":
            self.emit(OBRACE, pos, pos + 1)
            self.st.braces += 1
        elif ch == "}":
            return self._close_brace(pos, pos + 1, tilde=False)
        elif ch == '"':
            self.emit(OQUOTE, pos, pos + 1)
            self.st.modes.append("string")
        elif "\udc80" <= ch <= "\udcff":
            self.emit(BAD_UTF8, pos, pos + 1)
        elif _is_id_start(ch):
            end = self._ident_end(pos)
            self.emit(IDENT, pos, end)
            return end
        else:
            self.emit(INVALID, pos, pos + 1)
        return pos + 1

    def _ident_end(self, pos: int) -> int:
        end = pos + 1
        text = self.text
        while end < len(text) and _is_id_continue(text[end]):
            end += 1
        return end

    def _close_brace(self, start: int, end: int, tilde: bool) -> int:
        st = self.st
        if st.ret_braces and st.ret_braces[-1] == st.braces:
            self.emit(TEMPLATE_SEQ_END, start, end)
            st.braces -= 1
            st.ret_braces.pop()
            st.modes.pop()
        else:
            self.emit(TEMPLATE_SEQ_END if tilde else CBRACE, start, end)
            st.braces -= 1
        return end

    def _begin_heredoc(self, m: re.Match[str]) -> int:
        self.emit(OHEREDOC, m.start(), m.end())
        self.st.heredocs.append(_Heredoc(m.group("marker")))
        self.st.modes.append("heredoc")
        return m.end()

    def _scan_string(self, pos: int) -> int:
        text = self.text
        end = self._template_start(pos)
        if end >= 0:
            return end
        ch = text[pos]
        if ch == '"':
            self.emit(CQUOTE, pos, pos + 1)
            self.st.modes.pop()
            return pos + 1
        end = self._not_template(pos)
        if end < 0:
            m = _QUOTED_RUN.match(text, pos)
            end = m.end() if m else -1
        if end > pos:
            self.emit(QUOTED_LIT, pos, end)
            return end
        if ch in "\r\n":
            m2 = _NEWLINES.match(text, pos)
            assert m2 is not None
            self.emit(QUOTED_NEWLINE, pos, m2.end())
            return m2.end()
        self.emit(BAD_UTF8 if "\udc80" <= ch <= "\udcff" else INVALID, pos, pos + 1)
        return pos + 1

    def _scan_heredoc(self, pos: int) -> int:
        text = self.text
        end = self._template_start(pos)
        if end >= 0:
            return end
        doc = self.st.heredocs[-1]
        end = self._not_template(pos)
        if end >= 0:
            doc.start_of_line = False
            self.emit(STRING_LIT, pos, end)
            return end
        m = _HEREDOC_RUN.match(text, pos)
        assert m is not None
        end = m.end()
        if end == pos:  # a byte that is not UTF-8
            self.emit(BAD_UTF8, pos, pos + 1)
            return pos + 1
        if m.group(1) is None:
            doc.start_of_line = False
            self.emit(STRING_LIT, pos, end)
            return end
        if doc.start_of_line and text[pos:end].strip() == doc.marker:
            nl_start = end - len(m.group(1))
            self.emit(CHEREDOC, pos, nl_start)
            self.emit(NEWLINE, nl_start, end)
            self.st.heredocs.pop()
            self.st.modes.pop()
            return end
        doc.start_of_line = True
        self.emit(STRING_LIT, pos, end)
        return end

    def _scan_bare(self, pos: int) -> int:
        end = self._template_start(pos)
        if end >= 0:
            return end
        end = self._not_template(pos)
        if end < 0:
            m = _BARE_RUN.match(self.text, pos)
            assert m is not None
            end = m.end()
        if end == pos:
            self.emit(BAD_UTF8, pos, pos + 1)
            return pos + 1
        self.emit(STRING_LIT, pos, end)
        return end


def scan(source: SourceFile, mode: str = "main") -> list[Token]:
    """Scan ``source`` in ``mode`` ("main" for config and expressions, "bare" for templates)."""
    return Scanner(source, mode).scan()

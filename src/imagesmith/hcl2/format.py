"""Canonical layout for HCL native syntax, as Go HCL's ``hclwrite.Format`` (``packer fmt``) makes it.

Formatting changes only the spaces between tokens, never the tokens, and works line by line on the
scanner's tokens: indentation from the net count of brackets opened on each line, one space or none
between neighbouring tokens by a fixed table of rules, and the ``=`` of consecutive attribute lines
(and trailing comments) aligned into columns. It does not need the input to parse; ``packer fmt``
refuses input that does not (see :func:`format_config`).

The rules were written from the behaviour of ``hclwrite`` (hashicorp/hcl) and checked byte for byte
against ``packer fmt``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.diagnostics import raise_if_errors
from imagesmith.hcl2.parser import parse_config
from imagesmith.hcl2.source import SourceFile, count_graphemes


class _Tok:
    """A token's type and text, and the spaces to write before it (the one thing formatting sets)."""

    __slots__ = ("spaces", "text", "type")

    def __init__(self, ty: str, text: str, spaces: int) -> None:
        self.type = ty
        self.text = text
        self.spaces = spaces


_NIL = _Tok(t.NIL, "", 0)
_OPENERS = frozenset((t.OBRACE, t.OBRACK, t.OPAREN, t.TEMPLATE_CONTROL, t.TEMPLATE_INTERP))
_CLOSERS = frozenset((t.CBRACE, t.CBRACK, t.CPAREN, t.TEMPLATE_SEQ_END))
_TEMPLATE_TEXT = frozenset((t.QUOTED_LIT, t.STRING_LIT))
# Before a minus, these make it a negation (no space after it) rather than a subtraction.
_NEGATION_BEFORE = frozenset((
    t.NIL, t.OPAREN, t.OBRACE, t.OBRACK, t.EQUAL, t.COLON, t.COMMA, t.QUESTION,
    t.PLUS, t.STAR, t.SLASH, t.PERCENT, t.MINUS,
    t.EQUALOP, t.NOTEQUAL, t.GT, t.GTE, t.LT, t.LTE,
    t.AND, t.OR, t.BANG,
))  # fmt: skip


@dataclass
class _Line:
    """One source line split into cells whose first tokens get aligned: lead, ``= value``, comment."""

    lead: list[_Tok]
    assign: list[_Tok] = field(default_factory=list)
    comment: list[_Tok] = field(default_factory=list)


_CellOf = Callable[[_Line], list[_Tok]]
_WidthOf = Callable[[_Line], int]


def format_source(text: str) -> str:
    """``text`` laid out canonically; whatever does not scan is kept as it is."""
    tokens, trailer = _tokens(text)
    lines = _split_lines(tokens)
    _set_indents(lines)
    _set_spaces(lines)
    _align_cells(lines)
    return "".join(" " * tok.spaces + tok.text for tok in tokens) + trailer


def format_config(data: bytes, filename: str) -> bytes:
    """Format one configuration file as ``packer fmt`` does: it must parse, then it is laid out.

    Raises :class:`~imagesmith.hcl2.diagnostics.HCLError` with every syntax error found.
    """
    _, diags = parse_config(data, filename)
    raise_if_errors(diags)
    text = data.decode("utf-8", "surrogateescape")
    return format_source(text).encode("utf-8", "surrogateescape")


def _tokens(text: str) -> tuple[list[_Tok], str]:
    """The tokens of ``text``, and what follows the last one (blanks before the end, kept as they are)."""
    source = SourceFile("<fmt>", text)
    out: list[_Tok] = []
    last = 0
    for tok in t.scan(source):
        if tok.type == t.EOF:
            break
        out.append(_Tok(tok.type, text[tok.start : tok.end], tok.start - last))
        last = tok.end
    return out, text[last:]


def _bracket_change(tok: _Tok) -> int:
    if tok.type in _OPENERS:
        return 1
    if tok.type in _CLOSERS:
        return -1
    return 0


def _ends_line(tok: _Tok) -> bool:
    # '#' and '//' comments take their newline with them, so they end a line too.
    return tok.type == t.NEWLINE or (tok.type == t.COMMENT and tok.text.endswith("\n"))


def _split_lines(tokens: list[_Tok]) -> list[_Line]:
    lines: list[_Line] = []
    start = 0
    for i, tok in enumerate(tokens):
        if _ends_line(tok):
            lines.append(_Line(tokens[start : i + 1]))
            start = i + 1
    lines.append(_Line(tokens[start:]))
    for line in lines:
        _split_cells(line)
    return lines


def _split_cells(line: _Line) -> None:
    lead = line.lead
    if len(lead) > 1 and lead[-1].type == t.COMMENT:
        line.comment = lead[-1:]
        lead = lead[:-1]
    for i, tok in enumerate(lead):
        if i > 0 and tok.type == t.EQUAL:
            # Only a value that closes every bracket it opens on this line is a cell to align.
            if sum(_bracket_change(x) for x in lead[i:]) == 0:
                line.assign = lead[i:]
                lead = lead[:i]
            break
    line.lead = lead


def _set_indents(lines: list[_Line]) -> None:
    """Indent two spaces per level, a level being a line that opens more brackets than it closes."""
    stack: list[int] = []  # per open level: how many brackets its line opened
    for line in lines:
        if not line.lead:
            continue
        first = line.lead[0]
        if first.type == t.NEWLINE:
            first.spaces = 0
            continue
        net = 0
        for tok in line.lead:
            net += _bracket_change(tok)
            if tok.type == t.OHEREDOC:
                break
        net += sum(_bracket_change(tok) for tok in line.assign)
        if net < 0:
            _close_levels(stack, -net)
        first.spaces = 2 * len(stack)
        if net > 0:
            stack.append(net)


def _close_levels(stack: list[int], closed: int) -> None:
    while closed > 0 and stack:
        if closed >= stack[-1]:
            closed -= stack.pop()
        else:
            stack[-1] -= closed
            closed = 0


def _set_spaces(lines: list[_Line]) -> None:
    for line in lines:
        _space_cell(line.lead)
        if line.assign:
            line.assign[0].spaces = 1
            _space_cell(line.assign)


def _space_cell(cell: list[_Tok]) -> None:
    for i in range(len(cell) - 1):
        before = cell[i - 1] if i else _NIL
        cell[i + 1].spaces = 1 if _space_after(cell[i], before, cell[i + 1]) else 0


def _space_after(subject: _Tok, before: _Tok, after: _Tok) -> bool:
    """Whether ``subject`` is followed by a space when ``before`` precedes it and ``after`` follows."""
    s, a = subject.type, after.type
    if a in (t.NEWLINE, t.NIL):
        return False
    if (s == t.IDENT and a in (t.OPAREN, t.DOUBLECOLON)) or (s == t.DOUBLECOLON and a == t.IDENT):
        return False  # f(x), provider::ns::f
    if t.DOT in (s, a) or a in (t.COMMA, t.ELLIPSIS):
        return False
    if s == t.COMMA:
        return True
    if s in _TEMPLATE_TEXT or s in (t.OQUOTE, t.OHEREDOC) or a in _TEMPLATE_TEXT or a in (t.CQUOTE, t.CHEREDOC):
        return False  # a template's text is never padded
    if s == t.IDENT and subject.text == "in" and before.type == t.IDENT:
        return True  # [for x in [a]: x], not in[a]
    if a == t.OBRACK and (s in (t.IDENT, t.NUMBER_LIT) or _bracket_change(subject) < 0):
        return False  # indexing
    if s == t.BANG:
        return False
    if s == t.MINUS:
        return before.type not in _NEGATION_BEFORE
    if s == t.OBRACE or a == t.CBRACE:
        return not (s == t.OBRACE and a == t.CBRACE)  # { a = 1 }, but {}
    return _space_in_template(s, a, subject, after)


def _space_in_template(s: str, a: str, subject: _Tok, after: _Tok) -> bool:
    if s in (t.TEMPLATE_INTERP, t.TEMPLATE_CONTROL) and a == t.OBRACE:
        return True  # "${ {a = 1} }" keeps its braces apart from the interpolation's
    if s == t.CBRACE and a == t.TEMPLATE_SEQ_END:
        return True
    if s == t.TEMPLATE_SEQ_END and a in (t.TEMPLATE_INTERP, t.TEMPLATE_CONTROL):
        return False
    return not (_bracket_change(subject) > 0 or _bracket_change(after) < 0)


def _columns(cell: list[_Tok]) -> int:
    return sum(tok.spaces + count_graphemes(tok.text) for tok in cell)


def _align_cells(lines: list[_Line]) -> None:
    """Align the ``=`` of consecutive attribute lines, then their trailing comments."""
    _align(lines, lambda line: line.assign, lambda line: _columns(line.lead))
    _align(lines, lambda line: line.comment, lambda line: _columns(line.lead) + _columns(line.assign))


def _align(lines: list[_Line], cell_of: _CellOf, width_of: _WidthOf) -> None:
    run: list[_Line] = []
    for line in [*lines, _Line([])]:
        if cell_of(line):
            run.append(line)
            continue
        if run:
            widest = max(width_of(x) for x in run)
            for x in run:
                cell_of(x)[0].spaces = widest - width_of(x) + 1
            run = []

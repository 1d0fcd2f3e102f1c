"""Token peeker with HCL's newline sensitivity and the parser's error-recovery helpers."""

from __future__ import annotations

from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.scanner import Token
from imagesmith.hcl2.source import Range

_OPPOSITE = {
    t.OBRACE: t.CBRACE, t.OBRACK: t.CBRACK, t.OPAREN: t.CPAREN, t.OQUOTE: t.CQUOTE,
    t.OHEREDOC: t.CHEREDOC, t.CBRACE: t.OBRACE, t.CBRACK: t.OBRACK, t.CPAREN: t.OPAREN,
    t.CQUOTE: t.OQUOTE, t.CHEREDOC: t.OHEREDOC, t.TEMPLATE_CONTROL: t.TEMPLATE_SEQ_END,
    t.TEMPLATE_INTERP: t.TEMPLATE_SEQ_END, t.TEMPLATE_SEQ_END: t.TEMPLATE_INTERP,
}  # fmt: skip
_OPENERS = frozenset(
    {t.OBRACE, t.OBRACK, t.OPAREN, t.OQUOTE, t.OHEREDOC, t.TEMPLATE_INTERP, t.TEMPLATE_CONTROL}
)
_CLOSERS = frozenset({t.CBRACE, t.CBRACK, t.CPAREN, t.CQUOTE, t.CHEREDOC})


def opposite(ty: str) -> str:
    return _OPPOSITE.get(ty, t.NIL)


class Peeker:
    """Reads tokens, skipping comments, and newlines where the grammar ignores them."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.next_index = 0
        self.nl_stack: list[bool] = []
        self.recovery = False
        self._build_skip_tables()

    def _build_skip_tables(self) -> None:
        """For each index, the next token the parser sees with and without newlines (comments skipped;
        a line comment, which swallows its newline, stands for that newline where newlines count)."""
        tokens = self.tokens
        n = len(tokens)
        self._view = list(tokens)
        with_nl = list(range(n + 1))
        without_nl = list(range(n + 1))
        with_nl[n] = without_nl[n] = n - 1
        comment, newline = t.COMMENT, t.NEWLINE
        # Only newlines and comments need fixing up; every other token is seen where it stands.
        special = [i for i, tok in enumerate(tokens) if tok.type in (comment, newline)]
        for i in reversed(special):
            tok = tokens[i]
            if tok.type == comment:
                if tok.text.endswith("\n"):
                    self._view[i] = Token(newline, "\n", tok.start, tok.end, tok.source)
                else:
                    with_nl[i] = with_nl[i + 1]
            without_nl[i] = without_nl[i + 1]
        self._with_nl = with_nl
        self._without_nl = without_nl
        self._table = with_nl  # the table for the innermost newline mode

    def peek(self) -> Token:
        # Hot paths of the parser inline this expression: it runs for nearly every token.
        return self._view[self._table[self.next_index]]

    def read(self) -> Token:
        j = self._table[self.next_index]
        self.next_index = j + 1
        return self._view[j]

    def next_range(self) -> Range:
        return self.peek()

    def prev_range(self) -> Range:
        if self.next_index == 0:
            return self.next_range()
        return self.tokens[self.next_index - 1]

    def push_nl(self, include: bool) -> None:
        self.nl_stack.append(include)
        self._table = self._with_nl if include else self._without_nl

    def pop_nl(self) -> None:
        self.nl_stack.pop()
        self._table = self._without_nl if self.nl_stack and not self.nl_stack[-1] else self._with_nl

    # -- recovery, as Go HCL's parser does it
    def recover(self, end: str) -> Token:
        """Skip to the token closing the current construct (``end``), honouring nesting."""
        start = opposite(end)
        self.recovery = True
        nest = 0
        while True:
            tok = self.read()
            ty = tok.type
            if end == t.TEMPLATE_SEQ_END and ty == t.TEMPLATE_CONTROL:
                ty = t.TEMPLATE_INTERP
            if ty == start:
                nest += 1
            elif ty == end:
                if nest < 1:
                    return tok
                nest -= 1
            elif ty == t.EOF:
                return tok

    def recover_over(self, start: str) -> None:
        while self.read().type not in (start, t.EOF):
            pass
        self.recover(opposite(start))

    def recover_after_body_item(self) -> None:
        """Skip to the newline that ends the current body item."""
        self.recovery = True
        open_: list[str] = []
        while True:
            tok = self.read()
            ty = tok.type
            if ty == t.NEWLINE:
                if not open_:
                    return
            elif ty == t.EOF:
                return
            elif ty in _OPENERS:
                open_.append(ty)
            elif ty in _CLOSERS:
                opener = opposite(ty)
                while open_ and open_[-1] != opener:
                    open_.pop()
                if open_:
                    open_.pop()
            elif ty == t.TEMPLATE_SEQ_END:
                while open_ and open_[-1] not in (t.TEMPLATE_INTERP, t.TEMPLATE_CONTROL):
                    open_.pop()
                if open_:
                    open_.pop()

"""Turning a flat list of template parts into expressions: literals, interpolations, if and for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagesmith.hcl2 import ast
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.values import DYNAMIC_VAL, string_val

if TYPE_CHECKING:
    from imagesmith.hcl2.parser_template import Part

_END_CTRL = ("else", "endif", "endfor")


class _TreeBuilder:
    def __init__(self, parts: list[Part], diags: Diagnostics) -> None:
        self.parts = parts
        self.pos = 0
        self.diags = diags

    def peek(self) -> Part:
        return self.parts[self.pos]

    def read(self) -> Part:
        part = self.parts[self.pos]
        if part.kind != "end":
            self.pos += 1
        return part

    def root(self) -> list[ast.Expr]:
        exprs: list[ast.Expr] = []
        while self.peek().kind != "end":
            exprs.append(self.expr())
        return exprs

    def expr(self) -> ast.Expr:
        part = self.peek()
        if part.kind == "lit":
            self.read()
            return ast.LiteralValue(string_val(part.value), part.range)
        if part.kind == "interp":
            self.read()
            assert part.expr is not None
            return part.expr
        if part.kind == "if":
            return self.if_()
        if part.kind == "for":
            return self.for_()
        self.read()
        if part.kind == "end":
            self.diags.add("Unexpected end of template", "The control directives within this template are unbalanced.",
                           part.range)
        else:
            self.diags.add(f"Unexpected {part.kind} directive",
                           "The control directives within this template are unbalanced.", part.range)
        return ast.LiteralValue(DYNAMIC_VAL, part.range)

    def _body_until(self, opener: Part, ends: tuple[str, ...]) -> tuple[list[list[ast.Expr]], Part | None]:
        """Expressions up to one of ``ends``; for if, an else starts a second list."""
        lists: list[list[ast.Expr]] = [[]]
        name = opener.kind
        while True:
            nxt = self.peek()
            if nxt.kind == "end":
                self.diags.add("Unexpected end of template",
                               f"The {name} directive at {opener.range} is missing its corresponding end{name} "
                               "directive.", nxt.range)
                return lists, None
            if nxt.kind in _END_CTRL:
                self.read()
                if nxt.kind == "else" and name == "if" and len(lists) == 1:
                    lists.append([])
                    continue
                if nxt.kind in ends:
                    return lists, nxt
                self._unexpected(opener, nxt)
                return lists, None
            lists[-1].append(self.expr())

    def _unexpected(self, opener: Part, end: Part) -> None:
        if end.kind == "else" and opener.kind == "if":
            detail = f"Already in the else clause for the if started at {opener.range}."
        elif end.kind == "else":
            detail = "An else clause is not expected for a for directive."
        elif opener.kind == "if":
            detail = f"Expecting an endif directive for the if started at {opener.range}."
        else:
            detail = f"Expecting an endfor directive corresponding to the for directive at {opener.range}."
        self.diags.add(f"Unexpected {end.kind} directive", detail, end.range)

    def if_(self) -> ast.Expr:
        opener = self.read()
        lists, close = self._body_until(opener, ("endif",))
        if close is None:
            return ast.LiteralValue(DYNAMIC_VAL, self.parts[self.pos - 1].range)
        if_exprs = lists[0] or [ast.LiteralValue(string_val(""), opener.range.empty_at_end())]
        else_exprs = (lists[1] if len(lists) > 1 else []) or [
            ast.LiteralValue(string_val(""), close.range.empty_at_start())
        ]
        true_t = ast.Template(if_exprs, if_exprs[0].range.to(if_exprs[-1].range))
        false_t = ast.Template(else_exprs, else_exprs[0].range.to(else_exprs[-1].range))
        assert opener.expr is not None
        return ast.Conditional(opener.expr, true_t, false_t, opener.range.to(close.range))

    def for_(self) -> ast.Expr:
        opener = self.read()
        lists, close = self._body_until(opener, ("endfor",))
        if close is None:
            return ast.LiteralValue(DYNAMIC_VAL, self.parts[self.pos - 1].range)
        content = lists[0] or [ast.LiteralValue(string_val(""), opener.range.empty_at_end())]
        body = ast.Template(content, content[0].range.to(content[-1].range))
        assert opener.expr is not None
        whole = opener.range.to(close.range)
        loop = ast.For(opener.key_var, opener.val_var, opener.expr, None, body, None, False, whole,
                       opener.range, close.range)
        return ast.TemplateJoin(loop)


def build_template_tree(parts: list[Part], diags: Diagnostics) -> list[ast.Expr]:
    """The expressions a template's parts make, with if/for directives nested."""
    return _TreeBuilder(parts, diags).root()

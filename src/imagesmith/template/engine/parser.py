"""Parser for Go ``text/template`` (Go 1.19 grammar), producing :mod:`.nodes` trees.

Errors read like Go's (``template: root:1: function "foo" not defined``) with the column
added after the line (``root:1:3:``), counted like Go's execution errors (from 0).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass, field

from imagesmith.errors import RenderError
from imagesmith.template.engine import nodes as n
from imagesmith.template.engine.lexer import Tok, Token, lex
from imagesmith.template.engine.literals import LiteralError, parse_number, unquote
from imagesmith.template.engine.quoting import go_quote

TEMPLATE_NAME = "root"


def location(text: str, pos: int) -> str:
    """``root:LINE:COL`` for a character offset, as Go's ``ErrorContext`` computes it (COL counts
    UTF-8 bytes from 0)."""
    before = text[:pos]
    line = before.count("\n") + 1
    line_start = before.rfind("\n") + 1
    col = len(before[line_start:].encode("utf-8", "surrogatepass"))  # Go counts bytes
    return f"{TEMPLATE_NAME}:{line}:{col}"


@dataclass
class Template:
    """A parsed template: the root list plus any ``{{define}}``d templates."""

    text: str
    root: n.ListNode
    defines: dict[str, n.ListNode] = field(default_factory=dict)


class Parser:
    """Recursive-descent parser over the token list, mirroring Go's ``parse.Tree``."""

    def __init__(self, text: str, funcs: Collection[str]) -> None:
        self.text = text
        self.tokens = lex(text)
        self.count = len(self.tokens)
        # non_space[i]: index of the first non-space token at or after i (the last token is EOF/ERROR).
        self.non_space = [0] * self.count
        following = self.count - 1
        for index in range(self.count - 1, -1, -1):
            if self.tokens[index].kind is not Tok.SPACE:
                following = index
            self.non_space[index] = following
        self.i = 0
        self.funcs = funcs
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.last: Token = self.tokens[0]
        self.defines: dict[str, n.ListNode] = {}

    # -- token stream -------------------------------------------------------------------
    def next(self) -> Token:
        i = self.i
        self.i = i + 1
        tok = self.tokens[i] if i < self.count else self.tokens[-1]
        self.last = tok
        return tok

    def backup(self, count: int = 1) -> None:
        self.i -= count

    def peek(self) -> Token:
        return self.tokens[self.i] if self.i < self.count else self.tokens[-1]

    def next_non_space(self) -> Token:
        i = self.i
        j = self.non_space[i] if i < self.count else self.count - 1
        self.i = j + 1
        tok = self.last = self.tokens[j]
        return tok

    def peek_non_space(self) -> Token:
        """Go's peekNonSpace: skips (consumes) spaces, then looks at the next token."""
        i = self.i
        j = self.non_space[i] if i < self.count else self.count - 1
        self.i = j
        tok = self.last = self.tokens[j]
        return tok

    # -- errors -------------------------------------------------------------------------
    def error(self, msg: str, pos: int | None = None, hint: str = "") -> RenderError:
        where = location(self.text, self.last.pos if pos is None else pos)
        return RenderError(f"template: {where}: {msg}", hint)

    def unexpected(self, tok: Token, context: str) -> RenderError:
        if tok.kind is Tok.ERROR:
            return self.error(tok.val, tok.pos)
        return self.error(f"unexpected {tok.describe()} in {context}", tok.pos)

    def expect(self, kind: Tok, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind is not kind:
            raise self.unexpected(tok, context)
        return tok

    # -- structure ----------------------------------------------------------------------
    def parse(self) -> Template:
        root = n.ListNode(0)
        while self.peek().kind is not Tok.EOF:
            if self.peek().kind is Tok.LEFT_DELIM:
                start = self.i
                self.next()
                if self.next_non_space().val == "define" and self.last.kind is Tok.KEYWORD:
                    self.parse_define()
                    continue
                self.i = start
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                raise self.error(f"unexpected {node}", node.pos)
            root.nodes.append(node)
        return Template(self.text, root, self.defines)

    def parse_define(self) -> None:
        name_tok = self.next_non_space()
        if name_tok.kind not in (Tok.STRING, Tok.RAW_STRING):
            raise self.unexpected(name_tok, "define clause")
        self.expect(Tok.RIGHT_DELIM, "define clause")
        body, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.error(f"unexpected {end} in define clause")
        self.defines[self.unquote(name_tok)] = body

    def text_or_action(self) -> n.Node:
        tok = self.next_non_space()
        if tok.kind is Tok.TEXT:
            return n.TextNode(tok.pos, tok.val)
        if tok.kind is Tok.LEFT_DELIM:
            return self.action()
        raise self.unexpected(tok, "input")

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().kind is not Tok.EOF:
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                return lst, node
            lst.nodes.append(node)
        raise self.error("unexpected EOF")

    def action(self) -> n.Node:
        tok = self.next_non_space()
        if tok.kind is Tok.KEYWORD:
            word = tok.val
            if word in ("if", "range", "with"):
                return self.branch(word)
            if word in ("break", "continue"):
                return self.loop_control(tok, word)
            if word == "else":
                return self.else_control()
            if word == "end":
                return self.end_control()
            if word == "template":
                return self.template_control()
            if word == "block":
                return self.block_control()
        self.backup()
        start = self.peek()
        return n.ActionNode(start.pos, self.pipeline("command", Tok.RIGHT_DELIM))

    def loop_control(self, tok: Token, word: str) -> n.Node:
        nxt = self.next_non_space()
        if nxt.kind is not Tok.RIGHT_DELIM:
            raise self.unexpected(nxt, "{{" + word + "}}")
        if self.range_depth == 0:
            raise self.error("{{" + word + "}} outside {{range}}")
        return n.BreakNode(tok.pos) if word == "break" else n.ContinueNode(tok.pos)

    def else_control(self) -> n.Node:
        keyword = self.last.pos
        peek = self.peek_non_space()
        if peek.kind is Tok.KEYWORD and peek.val == "if":
            return n.ElseNode(keyword)
        self.expect(Tok.RIGHT_DELIM, "else")
        return n.ElseNode(keyword)

    def end_control(self) -> n.Node:
        keyword = self.last.pos
        self.expect(Tok.RIGHT_DELIM, "end")
        return n.EndNode(keyword)

    def branch(self, context: str) -> n.Node:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, Tok.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_body = None
            if isinstance(nxt, n.ElseNode):
                peek = self.peek()
                if context == "if" and peek.kind is Tok.KEYWORD and peek.val == "if":
                    self.next()
                    else_body = n.ListNode(nxt.pos, [self.branch("if")])
                else:
                    else_body, nxt = self.item_list()
                    if not isinstance(nxt, n.EndNode):
                        raise self.error(f"expected end; found {nxt}")
            return n.BranchNode(pipe.pos, context, pipe, body, else_body)
        finally:
            del self.vars[mark:]

    def template_control(self) -> n.Node:
        tok = self.next_non_space()
        if tok.kind not in (Tok.STRING, Tok.RAW_STRING):
            raise self.unexpected(tok, "template clause")
        name = self.unquote(tok)
        pipe = None
        if self.next_non_space().kind is not Tok.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline("template clause", Tok.RIGHT_DELIM)
        return n.TemplateNode(tok.pos, name, pipe)

    def block_control(self) -> n.Node:
        tok = self.next_non_space()
        if tok.kind not in (Tok.STRING, Tok.RAW_STRING):
            raise self.unexpected(tok, "block clause")
        name = self.unquote(tok)
        pipe = self.pipeline("block clause", Tok.RIGHT_DELIM)
        body, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.error(f"unexpected {end} in block clause")
        self.defines[name] = body
        return n.TemplateNode(tok.pos, name, pipe)

    # -- pipelines ----------------------------------------------------------------------
    def pipeline(self, context: str, end: Tok) -> n.PipeNode:
        pipe = n.PipeNode(self.peek_non_space().pos)
        self.parse_decls(pipe, context)
        while True:
            tok = self.next_non_space()
            if tok.kind is end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.kind in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def parse_decls(self, pipe: n.PipeNode, context: str) -> None:
        while True:
            v = self.peek_non_space()
            if v.kind is not Tok.VARIABLE:
                return
            start = self.i
            self.next_non_space()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.kind in (Tok.ASSIGN, Tok.DECLARE):
                pipe.is_assign = nxt.kind is Tok.ASSIGN
                self.next_non_space()
                pipe.decl.append(n.VariableNode(v.pos, [v.val]))
                self.vars.append(v.val)
                return
            if nxt.kind is Tok.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(n.VariableNode(v.pos, [v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in (Tok.VARIABLE, Tok.RIGHT_DELIM, Tok.RIGHT_PAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            del after
            self.i = start
            return

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for index, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], (n.BoolNode, n.DotNode, n.NilNode, n.NumberNode, n.StringNode)):
                raise self.error(f"non executable command in pipeline stage {index}")

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind is Tok.SPACE:
                continue
            if tok.kind in (Tok.RIGHT_DELIM, Tok.RIGHT_PAREN):
                self.backup()
            elif tok.kind is not Tok.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None or self.peek().kind is not Tok.FIELD:
            return node
        chain_pos = self.peek().pos
        fields: list[str] = []
        while self.peek().kind is Tok.FIELD:
            fields.append(self.next().val[1:])
        if isinstance(node, n.FieldNode):
            return n.FieldNode(chain_pos, node.idents + fields)
        if isinstance(node, n.VariableNode):
            return n.VariableNode(chain_pos, node.idents + fields)
        if isinstance(node, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode, n.DotNode)):
            raise self.error(f"unexpected . after term {go_quote(str(node))}")
        return n.ChainNode(chain_pos, node, fields)

    def term(self) -> n.Node | None:  # one return per term kind, as in Go
        tok = self.next_non_space()
        kind = tok.kind
        if kind is Tok.IDENTIFIER:
            if tok.val not in self.funcs:
                raise self.error(f"function {go_quote(tok.val)} not defined", hint=_suggest(tok.val, self.funcs))
            return n.IdentifierNode(tok.pos, tok.val)
        if kind is Tok.DOT:
            return n.DotNode(tok.pos)
        if kind is Tok.NIL:
            return n.NilNode(tok.pos)
        if kind is Tok.VARIABLE:
            if tok.val not in self.vars:
                raise self.error(f"undefined variable {go_quote(tok.val)}")
            return n.VariableNode(tok.pos, [tok.val])
        if kind is Tok.FIELD:
            return n.FieldNode(tok.pos, [tok.val[1:]])
        if kind is Tok.BOOL:
            return n.BoolNode(tok.pos, tok.val == "true")
        if kind in (Tok.NUMBER, Tok.CHAR_CONSTANT, Tok.COMPLEX):
            number_kind = {Tok.CHAR_CONSTANT: "char", Tok.COMPLEX: "complex"}.get(kind, "number")
            try:
                num = parse_number(tok.val, number_kind)
            except LiteralError as exc:
                raise self.error(str(exc)) from None
            return n.NumberNode(tok.pos, tok.val, num.as_int, num.as_float, num.is_float_syntax, num.as_complex)
        if kind is Tok.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", Tok.RIGHT_PAREN)
        if kind in (Tok.STRING, Tok.RAW_STRING):
            return n.StringNode(tok.pos, tok.val, self.unquote(tok))
        self.backup()
        return None

    def unquote(self, tok: Token) -> str:
        try:
            return unquote(tok.val)
        except LiteralError as exc:
            raise self.error(str(exc)) from None


_OPERAND_START = frozenset(
    {
        Tok.BOOL,
        Tok.CHAR_CONSTANT,
        Tok.COMPLEX,
        Tok.DOT,
        Tok.FIELD,
        Tok.IDENTIFIER,
        Tok.NUMBER,
        Tok.NIL,
        Tok.RAW_STRING,
        Tok.STRING,
        Tok.VARIABLE,
        Tok.LEFT_PAREN,
    }
)


def _suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f'did you mean "{close[0]}"?'
    if name == "clean_resource_name":
        return "clean_resource_name exists only in fields of builders that define it (amazon, googlecompute, azure)"
    return ""


def parse_template(text: str, funcs: Collection[str]) -> Template:
    """Parse ``text``; ``funcs`` are the function names the template may call."""
    return Parser(text, funcs).parse()

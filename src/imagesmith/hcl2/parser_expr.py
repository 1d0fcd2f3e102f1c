"""Recursive-descent parsing of HCL expressions (operators, terms, traversals, calls, collections)."""

from __future__ import annotations

from imagesmith.hcl2 import ast
from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.numbers import parse_number
from imagesmith.hcl2.parser_collections import CollectionsMixin
from imagesmith.hcl2.scanner import Token
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.types import NUMBER
from imagesmith.hcl2.values import DYNAMIC_VAL, FALSE, NULL_DYNAMIC, TRUE, Value, string_val, unknown_val

BINARY_OPS: list[dict[str, str]] = [
    {t.OR: "||"},
    {t.AND: "&&"},
    {t.EQUALOP: "==", t.NOTEQUAL: "!="},
    {t.GT: ">", t.GTE: ">=", t.LT: "<", t.LTE: "<="},
    {t.PLUS: "+", t.MINUS: "-"},
    {t.STAR: "*", t.SLASH: "/", t.PERCENT: "%"},
]

_OP_LEVEL = {tok: (level, op) for level, ops in enumerate(BINARY_OPS) for tok, op in ops.items()}


class ExprParser(CollectionsMixin):
    """Expression grammar, following Go HCL's parser and its error recovery."""

    def parse_expression(self, diags: Diagnostics) -> ast.Expr:
        """A whole expression: a conditional, or (most often) just its first operand."""
        start = self._view[self._table[self.next_index]]
        mark = len(diags)
        cond = self.parse_with_traversals(diags)
        if self.recovery and len(diags) > mark and diags.has_errors_since(mark):
            return cond
        nxt = self._view[self._table[self.next_index]].type
        if nxt in _OP_LEVEL:
            cond = self._climb(cond, 0, diags)
            if self.recovery and diags.has_errors_since(mark):
                return cond
            nxt = self._view[self._table[self.next_index]].type
        if nxt != t.QUESTION:
            return cond
        self.read()
        mark = len(diags)
        true_expr = self.parse_expression(diags)
        if self.recovery and diags.has_errors_since(mark):
            return cond
        colon = self._view[self._table[self.next_index]]
        if colon.type != t.COLON:
            diags.add(
                "Missing false expression in conditional",
                "The conditional operator (...?...:...) requires a false expression, delimited by a colon.",
                colon.range,
                start.to(colon.range),
            )
            return cond
        self.read()
        mark = len(diags)
        false_expr = self.parse_expression(diags)
        if self.recovery and diags.has_errors_since(mark):
            return cond
        return ast.Conditional(cond, true_expr, false_expr, start.to(false_expr.range))

    def _climb(self, lhs: ast.Expr, level: int, diags: Diagnostics) -> ast.Expr:
        """Binary operators of precedence ``level`` and up after ``lhs``, left-associative (precedence
        climbing builds the same tree as Go HCL's one-function-per-level descent)."""
        while True:
            found = _OP_LEVEL.get(self._view[self._table[self.next_index]].type)
            if found is None or found[0] < level:
                return lhs
            op_level, op = found
            self.read()
            mark = len(diags)
            rhs = self.parse_with_traversals(diags)
            if self.recovery and diags.has_errors_since(mark):
                return lhs
            while True:
                nxt = _OP_LEVEL.get(self._view[self._table[self.next_index]].type)
                if nxt is None or nxt[0] <= op_level:
                    break
                mark = len(diags)
                rhs = self._climb(rhs, op_level + 1, diags)
                if self.recovery and diags.has_errors_since(mark):
                    return lhs
            lhs = ast.BinaryOp(lhs, op, rhs, lhs.range.to(rhs.range))

    def parse_with_traversals(self, diags: Diagnostics) -> ast.Expr:
        term = self._parse_term(diags)
        if self._view[self._table[self.next_index]].type not in (t.DOT, t.OBRACK):
            return term
        return self.parse_traversals(term, diags)

    def _parse_term(self, diags: Diagnostics) -> ast.Expr:
        start = self._view[self._table[self.next_index]]
        ty = start.type
        if ty == t.OPAREN:
            return self._parse_parens(diags)
        if ty == t.NUMBER_LIT:
            tok = self.read()
            return ast.LiteralValue(self.number_lit(tok, diags), tok.range)
        if ty == t.IDENT:
            return self._parse_ident(diags)
        if ty == t.OQUOTE:
            simple = self._simple_string()
            if simple is not None:
                return simple
        if ty in (t.OQUOTE, t.OHEREDOC):
            open_ = self.read()
            closer = t.CQUOTE if ty == t.OQUOTE else t.CHEREDOC
            flush = ty == t.OHEREDOC and open_.text.startswith("<<-")
            exprs, passthru, _ = self.parse_template_inner(closer, flush, diags)
            rng = open_.range.to(self.prev_range())
            if passthru:
                return ast.TemplateWrap(exprs[0], rng)
            return ast.Template(exprs, rng)
        if ty in (t.MINUS, t.BANG):
            tok = self.read()
            operand = self.parse_with_traversals(diags)
            op = "neg" if ty == t.MINUS else "!"
            return ast.UnaryOp(op, operand, tok.range.to(operand.range), tok.range)
        if ty == t.OBRACK:
            return self.parse_tuple_cons(diags)
        if ty == t.OBRACE:
            return self.parse_object_cons(diags)
        if not self.recovery:
            if ty == t.EOF:
                diags.add("Missing expression", "Expected the start of an expression, but found the end of the file.",
                          start.range)
            else:
                diags.add("Invalid expression",
                          "Expected the start of an expression, but found an invalid expression token.", start.range)
        self.recovery = True
        return ast.LiteralValue(DYNAMIC_VAL, start.range)

    def _simple_string(self) -> ast.Expr | None:
        """A quoted string with no escapes or sequences, built directly (the common case); the tree is
        the one the general template path builds."""
        j = self._table[self.next_index]
        tokens = self.tokens
        lit = tokens[j + 1]
        if lit.type == t.CQUOTE:
            self.next_index = j + 2
            part = ast.LiteralValue(string_val(""), Range(lit.source, lit.end, lit.end))
            return ast.Template([part], tokens[j].to(lit))
        close = tokens[j + 2] if j + 2 < len(tokens) else lit
        if lit.type != t.QUOTED_LIT or close.type != t.CQUOTE or "\\" in lit.text or "{" in lit.text:
            return None
        self.next_index = j + 3
        return ast.Template([ast.LiteralValue(string_val(lit.text), lit)], tokens[j].to(close))

    def _parse_parens(self, diags: Diagnostics) -> ast.Expr:
        open_ = self.read()
        self.push_nl(False)
        mark = len(diags)
        expr = self.parse_expression(diags)
        if diags.has_errors_since(mark):
            self.recover(t.CPAREN)
            self.pop_nl()
            return expr
        close = self._view[self._table[self.next_index]]
        if close.type != t.CPAREN:
            diags.add("Unbalanced parentheses", "Expected a closing parenthesis to terminate the expression.",
                      close.range, open_.range.to(close.range))
            self.recovery = True
        close = self.read()
        self.pop_nl()
        return ast.Parentheses(expr, open_.range.to(close.range))

    def _parse_ident(self, diags: Diagnostics) -> ast.Expr:
        tok = self.read()
        if self._view[self._table[self.next_index]].type in (t.OPAREN, t.DOUBLECOLON):
            return self.finish_function_call(tok, diags)
        name = tok.text
        if name == "true":
            return ast.LiteralValue(TRUE, tok.range)
        if name == "false":
            return ast.LiteralValue(FALSE, tok.range)
        if name == "null":
            return ast.LiteralValue(NULL_DYNAMIC, tok.range)
        return ast.ScopeTraversal([ast.TraverseRoot(name, tok.range)], tok.range)

    def number_lit(self, tok: Token, diags: Diagnostics) -> Value:
        num = parse_number(tok.text)
        if num is None:
            diags.add("Invalid number literal", "Failed to recognize the value of this number literal.", tok.range)
            return unknown_val(NUMBER)
        return Value(NUMBER, num)

    def parse_traversals(self, from_: ast.Expr, diags: Diagnostics) -> ast.Expr:
        ret = from_
        while True:
            ty = self._view[self._table[self.next_index]].type
            if ty == t.DOT:
                ret, stop = self._parse_dot(from_, ret, diags)
                if stop:
                    return ret
            elif ty == t.OBRACK:
                ret = self._parse_bracket(from_, ret, diags)
            else:
                return ret

    def _parse_dot(self, from_: ast.Expr, ret: ast.Expr, diags: Diagnostics) -> tuple[ast.Expr, bool]:
        dot = self.read()
        attr = self._view[self._table[self.next_index]]
        if attr.type == t.IDENT:
            self.read()
            rng = dot.range.to(attr.range)
            return make_relative(ret, ast.TraverseAttr(attr.text, rng), rng), False
        if attr.type == t.NUMBER_LIT:
            num = self.read()
            rng = dot.range.to(num.range)
            if "." in num.text:
                first, _, second = num.text.partition(".")
                diags.add("Invalid legacy index syntax",
                          "When using the legacy index syntax, chaining two indexes together is not permitted. "
                          f"Use the proper index syntax instead, like [{first}][{second}].", num.range)
                return make_relative(ret, ast.TraverseIndex(DYNAMIC_VAL, rng), rng), False
            key = self.number_lit(num, diags)
            return make_relative(ret, ast.TraverseIndex(key, rng), rng), False
        if attr.type == t.STAR:
            return self._parse_attr_splat(from_, ret, dot, diags)
        diags.add("Invalid attribute name", "An attribute name is required after a dot.", attr.range)
        self.recovery = True
        return ast.LiteralValue(DYNAMIC_VAL, from_.range.to(dot.range)), False

    def _parse_attr_splat(self, from_: ast.Expr, ret: ast.Expr, dot: Token,
                          diags: Diagnostics) -> tuple[ast.Expr, bool]:
        marker = self.read()
        trav: list[ast.Traverser] = []
        first_range = self.next_range()
        last_range = marker.range
        while self._view[self._table[self.next_index]].type == t.DOT:
            d = self.read()
            nxt = self._view[self._table[self.next_index]]
            if nxt.type == t.NUMBER_LIT:
                num = self.read()
                rng = d.range.to(num.range)
                if "." in num.text:
                    first, _, second = num.text.partition(".")
                    diags.add("Invalid legacy index syntax",
                              "When using the legacy index syntax, chaining two indexes together is not permitted. "
                              "Use the proper index syntax with a full splat expression [*] instead, like "
                              f"[{first}][{second}].", marker.range)
                    trav.append(ast.TraverseIndex(DYNAMIC_VAL, rng))
                else:
                    trav.append(ast.TraverseIndex(self.number_lit(num, diags), rng))
                last_range = num.range
                continue
            if nxt.type != t.IDENT:
                if not self.recovery:
                    if nxt.type == t.STAR:
                        diags.add("Nested splat expression not allowed",
                                  "A splat expression (*) cannot be used inside another attribute-only splat "
                                  "expression.", nxt.range)
                    else:
                        diags.add("Invalid attribute name", "An attribute name is required after a dot.",
                                  marker.range)
                self.recovery = True
                return ret, False
            name = self.read()
            trav.append(ast.TraverseAttr(name.text, d.range.to(name.range)))
            last_range = name.range
        item = ast.AnonSymbol(dot.range.to(marker.range))
        each: ast.Expr = item
        if trav:
            each = ast.RelativeTraversal(item, trav, first_range.to(last_range))
        return ast.Splat(ret, each, item, from_.range.to(last_range), dot.range.to(marker.range)), False

    def _parse_bracket(self, from_: ast.Expr, ret: ast.Expr, diags: Diagnostics) -> ast.Expr:
        open_ = self.read()
        if self._view[self._table[self.next_index]].type == t.STAR:
            self.read()
            close = self.read()
            if close.type != t.CBRACK and not self.recovery:
                # Go HCL's subject points at the variable it then reassigns: the token recovery stops at
                close = self.recover(t.CBRACK)
                diags.add("Missing close bracket on splat index",
                          "The star for a full splat operator must be immediately followed by a closing bracket "
                          '("]").', close.range)
            item = ast.AnonSymbol(open_.range.to(close.range))
            each = self.parse_traversals(item, diags)
            return ast.Splat(ret, each, item, from_.range.to(each.range), open_.range.to(close.range))
        self.push_nl(False)
        mark = len(diags)
        key = self.parse_expression(diags)
        if self.recovery and diags.has_errors_since(mark):
            close = self.recover(t.CBRACK)
        else:
            close = self.read()
            if close.type != t.CBRACK and not self.recovery:
                close = self.recover(t.CBRACK)  # (reported where recovery stops, as Go HCL does)
                diags.add("Missing close bracket on index", 'The index operator must end with a closing bracket ("]").',
                          close.range)
        self.pop_nl()
        rng = open_.range.to(close.range)
        if isinstance(key, ast.LiteralValue):
            return make_relative(ret, ast.TraverseIndex(key.value, rng), rng)
        if isinstance(key, ast.Template) and key.is_string_literal():
            lit = key.parts[0]
            assert isinstance(lit, ast.LiteralValue)
            return make_relative(ret, ast.TraverseIndex(lit.value, rng), rng)
        return ast.Index(ret, key, from_.range.to(rng), rng)


def make_relative(expr: ast.Expr, step: ast.Traverser, rng: Range) -> ast.Expr:
    """Append ``step`` to a traversal expression, or start a relative traversal from ``expr``."""
    if isinstance(expr, (ast.ScopeTraversal, ast.RelativeTraversal)):
        expr.traversal.append(step)
        expr.range = expr.range.to(rng)
        return expr
    return ast.RelativeTraversal(expr, [step], expr.range.to(rng))

"""Parsing of function calls, tuple and object constructors and ``for`` expressions."""

from __future__ import annotations

from imagesmith.hcl2 import ast
from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.parser_template import TemplateMixin
from imagesmith.hcl2.scanner import Token
from imagesmith.hcl2.values import DYNAMIC_VAL


def _is_kw(tok: Token, word: str) -> bool:
    return tok.type == t.IDENT and tok.text == word


class CollectionsMixin(TemplateMixin):
    def finish_function_call(self, name: Token, diags: Diagnostics) -> ast.Expr:
        open_ = self.read()
        name_str = name.text
        name_end = name.range
        while open_.type == t.DOUBLECOLON:
            nxt = self.read()
            if nxt.type != t.IDENT:
                diags.add("Missing function name",
                          "Function scope resolution symbol :: must be followed by a function name in this scope.",
                          nxt.range, name.range.to(nxt.range))
                self.recover_over(t.OPAREN)
                return ast.LiteralValue(DYNAMIC_VAL, name.range.to(nxt.range))
            name_str += "::" + nxt.text
            name_end = nxt.range
            open_ = self.read()
        name_range = name.range.to(name_end)
        if open_.type != t.OPAREN:
            diags.add("Missing open parenthesis",
                      "Function selector must be followed by an open parenthesis to begin the function call.",
                      open_.range, name.range.to(open_.range))
            self.recover_over(t.OPAREN)
            return ast.LiteralValue(DYNAMIC_VAL, name.range.to(open_.range))
        args: list[ast.Expr] = []
        expand = False
        close = open_
        self.push_nl(False)
        while True:
            if self.peek().type == t.CPAREN:
                close = self.read()
                break
            mark = len(diags)
            args.append(self.parse_expression(diags))
            if self.recovery and diags.has_errors_since(mark):
                rec = self.recover(t.CPAREN)
                if rec.type == t.CPAREN:
                    close = rec
                break
            sep = self.read()
            if sep.type == t.CPAREN:
                close = sep
                break
            if sep.type == t.ELLIPSIS:
                expand = True
                if self.peek().type != t.CPAREN:
                    if not self.recovery:
                        diags.add("Missing closing parenthesis",
                                  "An expanded function argument (with ...) must be immediately followed by closing "
                                  "parentheses.", sep.range, name.range.to(sep.range))
                    close = self.recover(t.CPAREN)
                else:
                    close = self.read()
                break
            if sep.type != t.COMMA:
                if sep.type == t.EOF:
                    diags.add("Unterminated function call",
                              "There is no closing parenthesis for this function call before the end of the file. "
                              "This may be caused by incorrect parenthesis nesting elsewhere in this file.",
                              name.range.to(open_.range))
                else:
                    diags.add("Missing argument separator",
                              "A comma is required to separate each function argument from the next.",
                              sep.range, name.range.to(sep.range))
                close = self.recover(t.CPAREN)
                break
            if self.peek().type == t.CPAREN:
                close = self.read()
                break
        self.pop_nl()
        return ast.FunctionCall(name_str, args, expand, name_range, open_.range, close.range)

    def parse_tuple_cons(self, diags: Diagnostics) -> ast.Expr:
        open_ = self.read()
        self.push_nl(False)
        try:
            if _is_kw(self.peek(), "for"):
                return self.finish_for(open_, diags)
            exprs: list[ast.Expr] = []
            while True:
                if self.peek().type == t.CBRACK:
                    close = self.read()
                    break
                mark = len(diags)
                exprs.append(self.parse_expression(diags))
                if self.recovery and diags.has_errors_since(mark):
                    close = self.recover(t.CBRACK)
                    break
                nxt = self.peek()
                if nxt.type == t.CBRACK:
                    close = self.read()
                    break
                if nxt.type != t.COMMA:
                    if not self.recovery:
                        if nxt.type == t.EOF:
                            diags.add("Unterminated tuple constructor expression",
                                      "There is no corresponding closing bracket before the end of the file. This may "
                                      "be caused by incorrect bracket nesting elsewhere in this file.", open_.range)
                        else:
                            diags.add("Missing item separator", "Expected a comma to mark the beginning of the next "
                                      "item.", nxt.range, open_.range.to(nxt.range))
                    close = self.recover(t.CBRACK)
                    break
                self.read()
            return ast.TupleCons(exprs, open_.range.to(close.range))
        finally:
            self.pop_nl()

    def parse_object_cons(self, diags: Diagnostics) -> ast.Expr:
        open_ = self.read()
        self.push_nl(False)
        is_for = _is_kw(self.peek(), "for")
        self.pop_nl()
        if is_for:
            return self.finish_for(open_, diags)
        self.push_nl(True)
        try:
            return self._finish_object_cons(open_, diags)
        finally:
            self.pop_nl()

    def _finish_object_cons(self, open_: Token, diags: Diagnostics) -> ast.Expr:
        items: list[tuple[ast.ObjectConsKey, ast.Expr]] = []
        unterminated = ("Unterminated object constructor expression",
                        "There is no corresponding closing brace before the end of the file. This may be caused by "
                        "incorrect brace nesting elsewhere in this file.")
        while True:
            nxt = self.peek()
            if nxt.type == t.NEWLINE:
                self.read()
                continue
            if nxt.type == t.CBRACE:
                close = self.read()
                break
            force = nxt.type == t.OPAREN
            mark = len(diags)
            key_expr = self.parse_expression(diags)
            if self.recovery and diags.has_errors_since(mark):
                close = self.recover(t.CBRACE)
                break
            key = ast.ObjectConsKey(key_expr, force)
            nxt = self.peek()
            if nxt.type not in (t.EQUAL, t.COLON):
                if not self.recovery:
                    if nxt.type in (t.NEWLINE, t.COMMA):
                        diags.add("Missing attribute value",
                                  'Expected an attribute value, introduced by an equals sign ("=").',
                                  nxt.range, open_.range.to(nxt.range))
                    elif nxt.type == t.IDENT:
                        diags.add("Missing key/value separator",
                                  'Expected an equals sign ("=") to mark the beginning of the attribute value. If you '
                                  "intended to given an attribute name containing periods or spaces, write the name in "
                                  "quotes to create a string literal.", nxt.range, open_.range.to(nxt.range))
                    elif nxt.type == t.EOF:
                        diags.add(*unterminated, open_.range)
                    else:
                        diags.add("Missing key/value separator",
                                  'Expected an equals sign ("=") to mark the beginning of the attribute value.',
                                  nxt.range, open_.range.to(nxt.range))
                close = self.recover(t.CBRACE)
                break
            self.read()
            mark = len(diags)
            value = self.parse_expression(diags)
            if self.recovery and diags.has_errors_since(mark):
                close = self.recover(t.CBRACE)
                break
            items.append((key, value))
            nxt = self.peek()
            if nxt.type == t.CBRACE:
                close = self.read()
                break
            if nxt.type not in (t.COMMA, t.NEWLINE):
                if not self.recovery:
                    if nxt.type == t.EOF:
                        diags.add(*unterminated, open_.range)
                    else:
                        diags.add("Missing attribute separator",
                                  "Expected a newline or comma to mark the beginning of the next attribute.",
                                  nxt.range, open_.range.to(nxt.range))
                close = self.recover(t.CBRACE)
                break
            self.read()
        return ast.ObjectCons(items, open_.range.to(close.range))

    def finish_for(self, open_: Token, diags: Diagnostics) -> ast.Expr:
        self.push_nl(False)
        try:
            return self._finish_for(open_, diags)
        finally:
            self.pop_nl()

    def _for_error(self, open_: Token, close_type: str, detail: str, diags: Diagnostics) -> ast.Expr:
        if detail and not self.recovery:
            nxt = self.peek()
            diags.add("Invalid 'for' expression", detail, nxt.range, open_.range.to(nxt.range))
        close = self.recover(close_type)
        return ast.LiteralValue(DYNAMIC_VAL, open_.range.to(close.range))

    def _finish_for(self, open_: Token, diags: Diagnostics) -> ast.Expr:
        self.read()  # "for"
        make_obj = open_.type == t.OBRACE
        close_type = t.CBRACE if make_obj else t.CBRACK
        if self.peek().type != t.IDENT:
            return self._for_error(open_, close_type, "For expression requires variable name after 'for'.", diags)
        key_name, val_name = "", self.read().text
        if self.peek().type == t.COMMA:
            key_name = val_name
            self.read()
            if self.peek().type != t.IDENT:
                return self._for_error(open_, close_type, "For expression requires value variable name after comma.",
                                       diags)
            val_name = self.read().text
        if not _is_kw(self.peek(), "in"):
            return self._for_error(open_, close_type,
                                   "For expression requires the 'in' keyword after its name declarations.", diags)
        self.read()
        mark = len(diags)
        coll = self.parse_expression(diags)
        if self.recovery and diags.has_errors_since(mark):
            return self._for_error(open_, close_type, "", diags)
        if self.peek().type != t.COLON:
            return self._for_error(open_, close_type,
                                   "For expression requires a colon after the collection expression.", diags)
        self.read()
        mark = len(diags)
        key_expr: ast.Expr | None = None
        val_expr = self.parse_expression(diags)
        if self.peek().type == t.FATARROW:
            self.read()
            key_expr = val_expr
            val_expr = self.parse_expression(diags)
        if self.recovery and diags.has_errors_since(mark):
            return self._for_error(open_, close_type, "", diags)
        group = False
        ellipsis = None
        if self.peek().type == t.ELLIPSIS:
            ellipsis = self.read()
            group = True
        cond: ast.Expr | None = None
        if _is_kw(self.peek(), "if"):
            self.read()
            mark = len(diags)
            cond = self.parse_expression(diags)
            if self.recovery and diags.has_errors_since(mark):
                return self._for_error(open_, close_type, "", diags)
        if self.peek().type == close_type:
            close = self.read()
        else:
            if not self.recovery:
                nxt = self.peek()
                diags.add("Invalid 'for' expression", "Extra characters after the end of the 'for' expression.",
                          nxt.range, open_.range.to(nxt.range))
            close = self.recover(close_type)
        whole = open_.range.to(close.range)
        if not make_obj:
            if key_expr is not None:
                diags.add("Invalid 'for' expression", "Key expression is not valid when building a tuple.",
                          key_expr.range, whole)
            if ellipsis is not None:
                diags.add("Invalid 'for' expression", "Grouping ellipsis (...) cannot be used when building a tuple.",
                          ellipsis.range, whole)
        elif key_expr is None:
            diags.add("Invalid 'for' expression", "Key expression is required when building an object.",
                      val_expr.range, whole)
        return ast.For(key_name, val_name, coll, key_expr, val_expr, cond, group, whole, open_.range, close.range)

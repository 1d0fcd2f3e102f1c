"""Parsing HCL native syntax: configuration bodies (attributes, blocks), expressions and templates.

``parse_config``/``parse_expression``/``parse_template`` return the tree and every diagnostic, with
Go HCL's summaries and ranges; a file with errors still yields a (partial) tree.
"""

from __future__ import annotations

from imagesmith.hcl2 import ast
from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.parser_expr import ExprParser
from imagesmith.hcl2.parser_template import decode_string_token
from imagesmith.hcl2.scanner import Token, scan
from imagesmith.hcl2.source import Range, SourceFile
from imagesmith.hcl2.token_checks import check_invalid_tokens

_NO_DEF = ("Argument or block definition required", "An argument or block definition is required here.")
_NO_DEF_EQ = (
    "Argument or block definition required",
    'An argument or block definition is required here. To set an argument, use the equals sign "=" to introduce the '
    "argument value.",
)
_UNCLOSED_BLOCK = (
    "Unclosed configuration block",
    "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace "
    "nesting elsewhere in this file.",
)


class Parser(ExprParser):
    """The structural grammar on top of the expression grammar."""

    def parse_body(self, end: str, diags: Diagnostics) -> ast.Body:
        attrs: dict[str, ast.Attribute] = {}
        blocks: list[ast.Block] = []
        start = self.prev_range()
        while True:
            nxt = self._view[self._table[self.next_index]]
            if nxt.type == end:
                end_range = self.next_range()
                self.read()
                break
            if nxt.type == t.NEWLINE:
                self.read()
                continue
            if nxt.type == t.IDENT:
                item = self.parse_body_item(diags)
                if isinstance(item, ast.Block):
                    blocks.append(item)
                elif isinstance(item, ast.Attribute):
                    self._add_attribute(attrs, item, diags)
                continue
            bad = self.read()
            if not self.recovery:
                if bad.type == t.OQUOTE:
                    diags.add("Invalid argument name", "Argument names must not be quoted.", bad.range)
                elif bad.type == t.EOF:
                    if end == t.CBRACE:
                        diags.add(*_UNCLOSED_BLOCK, start)
                    else:
                        diags.add("Unclosed configuration body",
                                  "Found end of file before the end of this configuration body.", start)
                else:
                    diags.add(*_NO_DEF, bad.range)
            end_range = self.prev_range()
            self.recover(end)
            break
        return ast.Body(attrs, blocks, start.to(end_range), end_range.empty_at_end())

    @staticmethod
    def _add_attribute(attrs: dict[str, ast.Attribute], item: ast.Attribute, diags: Diagnostics) -> None:
        existing = attrs.get(item.name)
        if existing is None:
            attrs[item.name] = item
            return
        diags.add("Attribute redefined",
                  f'The argument "{item.name}" was already set at {existing.name_range}. Each argument may be set '
                  "only once.", item.name_range)

    def parse_body_item(self, diags: Diagnostics) -> ast.Attribute | ast.Block | None:
        ident = self.read()
        if ident.type != t.IDENT:
            self.recover_after_body_item()
            diags.add(*_NO_DEF, ident.range)
            return None
        nxt = self._view[self._table[self.next_index]]
        if nxt.type == t.EQUAL:
            return self._finish_attribute(ident, False, diags)
        if nxt.type in (t.OQUOTE, t.OBRACE, t.IDENT):
            return self._finish_block(ident, diags)
        self.recover_after_body_item()
        diags.add(*_NO_DEF_EQ, ident.range)
        return None

    def _parse_single_attr_body(self, diags: Diagnostics) -> ast.Body | None:
        ident = self.read()
        if ident.type != t.IDENT:
            self.recover_after_body_item()
            diags.add(*_NO_DEF, ident.range)
            return None
        nxt = self._view[self._table[self.next_index]]
        if nxt.type == t.EQUAL:
            attr = self._finish_attribute(ident, True, diags)
            return ast.Body({attr.name: attr}, [], attr.range, attr.range.empty_at_end())
        self.recover_after_body_item()
        if nxt.type in (t.OQUOTE, t.OBRACE, t.IDENT):
            diags.add("Argument definition required",
                      "A single-line block definition can contain only a single argument. If you meant to define "
                      f'argument "{ident.text}", use an equals sign to assign it a value. To define a nested block, '
                      "place it on a line of its own within its parent block.", ident.range.to(nxt.range))
        else:
            diags.add(*_NO_DEF_EQ, ident.range)
        return None

    def _finish_attribute(self, ident: Token, single_line: bool, diags: Diagnostics) -> ast.Attribute:
        eq = self.read()
        mark = len(diags)
        expr = self.parse_expression(diags)
        if self.recovery and diags.has_errors_since(mark):
            end_range = self.prev_range()
            self.recover_after_body_item()
        else:
            end_range = self.prev_range()
            if not single_line:
                end = self._view[self._table[self.next_index]]
                if end.type not in (t.NEWLINE, t.EOF):
                    if not self.recovery:
                        summary = "Missing newline after argument"
                        detail = "An argument definition must end with a newline."
                        if end.type == t.COMMA:
                            summary = "Unexpected comma after argument"
                            detail = "Argument definitions must be separated by newlines, not commas. " + detail
                        diags.add(summary, detail, end.range, ident.range.to(end.range))
                    end_range = self.prev_range()
                    self.recover_after_body_item()
                else:
                    end_range = self.prev_range()
                    self.read()
        return ast.Attribute(ident.text, expr, ident.range.to(end_range), ident.range, eq.range)

    def _finish_block(self, ident: Token, diags: Diagnostics) -> ast.Block:
        labels: list[str] = []
        label_ranges: list[Range] = []
        while True:
            tok = self._view[self._table[self.next_index]]
            if tok.type == t.OBRACE:
                obrace = self.read()
                break
            if tok.type == t.OQUOTE:
                label, rng = self._parse_quoted_label(diags)
                labels.append(label)
                label_ranges.append(rng)
                continue
            if tok.type == t.IDENT:
                self.read()
                labels.append(tok.text)
                label_ranges.append(tok.range)
                continue
            ctx = ident.range.to(tok.range)
            if tok.type == t.EQUAL:
                diags.add("Invalid block definition", 'The equals sign "=" indicates an argument definition, and must '
                          "not be used when defining a block.", tok.range, ctx)
            elif tok.type == t.NEWLINE:
                diags.add("Invalid block definition", 'A block definition must have block content delimited by "{" '
                          'and "}", starting on the same line as the block header.', tok.range, ctx)
            elif not self.recovery:
                diags.add("Invalid block definition", 'Either a quoted string block label or an opening brace ("{") '
                          "is expected here.", tok.range, ctx)
            self.recover_after_body_item()
            empty = ast.Body({}, [], ident.range, ident.range)
            return ast.Block(ident.text, labels, empty, ident.range, label_ranges, ident.range, ident.range)
        body = self._parse_block_body(ident, obrace, diags)
        cbrace_range = self.prev_range()
        eol = self._view[self._table[self.next_index]]
        if eol.type in (t.NEWLINE, t.EOF):
            self.read()
        else:
            if not self.recovery:
                diags.add("Missing newline after block definition", "A block definition must end with a newline.",
                          eol.range, ident.range.to(eol.range))
            self.recover_after_body_item()
        if body is None:
            body = ast.Body({}, [], obrace.range.to(cbrace_range), cbrace_range)
        return ast.Block(ident.text, labels, body, ident.range, label_ranges, obrace.range, cbrace_range)

    def _parse_block_body(self, ident: Token, obrace: Token, diags: Diagnostics) -> ast.Body | None:
        if self._view[self._table[self.next_index]].type in (t.NEWLINE, t.EOF, t.CBRACE):
            return self.parse_body(t.CBRACE, diags)
        body_diags = Diagnostics()
        body = self._parse_single_attr_body(body_diags)
        nxt = self._view[self._table[self.next_index]]
        if nxt.type == t.CBRACE:
            self.read()
        elif nxt.type == t.COMMA:
            diags.add("Invalid single-argument block definition",
                      "Single-line block syntax can include only one argument definition. To define multiple "
                      "arguments, use the multi-line block syntax with one argument definition per line.", nxt.range)
            self.recover(t.CBRACE)
        elif nxt.type == t.NEWLINE:
            diags.add("Invalid single-argument block definition",
                      "An argument definition on the same line as its containing block creates a single-line block "
                      "definition, which must also be closed on the same line. Place the block's closing brace "
                      "immediately after the argument definition.", nxt.range)
            self.recover(t.CBRACE)
        else:
            if not self.recovery:
                if nxt.type == t.EOF:
                    diags.add(*_UNCLOSED_BLOCK, obrace.range, ident.range.to(obrace.range))
                else:
                    diags.add("Invalid single-argument block definition",
                              "A single-line block definition must end with a closing brace immediately after its "
                              "single argument definition.", nxt.range)
            self.recover(t.CBRACE)
        diags.extend(body_diags)
        return body

    def _parse_quoted_label(self, diags: Diagnostics) -> tuple[str, Range]:
        oquote = self.read()
        out: list[str] = []
        while True:
            tok = self.read()
            if tok.type == t.CQUOTE:
                end_range = tok.range
                break
            if tok.type == t.QUOTED_LIT:
                out.append(decode_string_token(tok, diags))
                continue
            ctx = oquote.range.to(tok.range)
            if tok.type in (t.TEMPLATE_CONTROL, t.TEMPLATE_INTERP):
                which = "$" if tok.type == t.TEMPLATE_INTERP else "%"
                diags.add("Invalid string literal", "Template sequences are not allowed in this string. To include a "
                          f'literal "{which}", double it (as "{which}{which}") to escape it.', tok.range, ctx)
                out.append(which + "{ ... }")
                self.recover(t.TEMPLATE_SEQ_END)
                continue
            if tok.type == t.EOF:
                diags.add("Unterminated string literal",
                          "Unable to find the closing quote mark before the end of the file.", tok.range, ctx)
            else:
                diags.add("Invalid string literal", "This item is not valid in a string literal.", tok.range, ctx)
                self.recover(t.CQUOTE)
            end_range = tok.range
            break
        return "".join(out), oquote.range.to(end_range)


def parse_config(text: str | bytes, filename: str) -> tuple[ast.Body, Diagnostics]:
    """Parse a whole configuration file in native syntax."""
    source = SourceFile.from_bytes(filename, text) if isinstance(text, bytes) else SourceFile(filename, text)
    tokens = scan(source)
    diags = check_invalid_tokens(tokens)
    parser = Parser(tokens)
    body = parser.parse_body(t.EOF, diags)
    return body, diags


def parse_expression(
    text: str, filename: str = "<expr>", source: SourceFile | None = None
) -> tuple[ast.Expr, Diagnostics]:
    """Parse one expression (newlines are insignificant), as hclsyntax.ParseExpression."""
    source = source or SourceFile(filename, text)
    tokens = scan(source)
    diags = check_invalid_tokens(tokens)
    parser = Parser(tokens)
    parser.push_nl(False)
    expr = parser.parse_expression(diags)
    nxt = parser.peek()
    if nxt.type != t.EOF and not parser.recovery:
        diags.add("Extra characters after expression",
                  "An expression was successfully parsed, but extra characters were found after it.", nxt.range)
    parser.pop_nl()
    return expr, diags


def parse_template(
    text: str, filename: str = "<template>", source: SourceFile | None = None
) -> tuple[ast.Expr, Diagnostics]:
    """Parse a bare template (as for ``templatefile``), as hclsyntax.ParseTemplate."""
    source = source or SourceFile(filename, text)
    tokens = scan(source, "bare")
    diags = check_invalid_tokens(tokens)
    parser = Parser(tokens)
    exprs, passthru, rng = parser.parse_template_inner(t.EOF, False, diags)
    if passthru:
        return ast.TemplateWrap(exprs[0], rng), diags
    return ast.Template(exprs, rng), diags

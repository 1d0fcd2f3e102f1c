"""Parsing of templates: quoted strings, heredocs, interpolations, directives and strip markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagesmith.hcl2 import ast
from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.peeker import Peeker
from imagesmith.hcl2.scanner import Token
from imagesmith.hcl2.source import Range, count_graphemes
from imagesmith.hcl2.template_tree import build_template_tree
from imagesmith.hcl2.values import string_val

# Go's unicode.IsSpace
GO_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
            "\u2028\u2029\u202f\u205f\u3000")
_QUOTED_SLICES = re.compile(r"\\u[0-9A-Fa-f]{0,4}|\\U[0-9A-Fa-f]{0,8}|\\.?|\$\$\{|%%\{", re.DOTALL)
_UNQUOTED_SLICES = re.compile(r"\$\$\{|%%\{")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


@dataclass
class Part:
    """One template token: kind is lit, interp, if, for, else, endif, endfor or end."""

    kind: str
    range: Range
    value: str = ""
    expr: ast.Expr | None = None
    key_var: str = ""
    val_var: str = ""


def decode_string_token(tok: Token, diags: Diagnostics) -> str:
    """The text of a quoted (escapes allowed) or heredoc literal token, escapes applied."""
    text = tok.text
    quoted = tok.type == t.QUOTED_LIT
    if "\\" not in text and "$${" not in text and "%%{" not in text:
        return text
    pattern = _QUOTED_SLICES if quoted else _UNQUOTED_SLICES
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(text[last : m.start()])
        last = m.end()
        out.append(_decode_escape(m.group(), Range(tok.source, tok.start + m.start(), tok.start + m.end()), diags))
    out.append(text[last:])
    return "".join(out)


def _decode_escape(s: str, rng: Range, diags: Diagnostics) -> str:
    if s in ("$${", "%%{"):
        return s[1:]
    if len(s) < 2:
        diags.add("Invalid escape sequence", "Backslash must be followed by an escape sequence selector character.",
                  rng)
        return s
    sel = s[1]
    if sel in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[sel]
    if sel in "uU":
        want = 6 if sel == "u" else 10
        if len(s) != want:
            digits = "four" if sel == "u" else "eight"
            diags.add("Invalid escape sequence",
                      f"The \\{sel} escape sequence must be followed by {digits} hexadecimal digits.", rng)
            return s
        num = int(s[2:], 16)
        if num > 0x10FFFF or 0xD800 <= num <= 0xDFFF:
            diags.add("Invalid escape sequence", f"Cannot encode character U+{num:04x} in UTF-8.", rng)
            return s
        return chr(num)
    diags.add("Invalid escape sequence", f"The symbol {s[1:]!r} is not a valid escape sequence selector.".replace(
        "'", '"'), rng)
    return s[1:]


class TemplateMixin(Peeker):
    def parse_expression(self, diags: Diagnostics) -> ast.Expr:
        raise NotImplementedError

    def parse_template_inner(self, end: str, flush: bool, diags: Diagnostics) -> tuple[list[ast.Expr], bool, Range]:
        parts, rng = self._parse_template_parts(end, diags)
        if flush:
            _flush_heredoc(parts)
        parts = _meld_literals(parts)
        exprs = build_template_tree(parts, diags)
        passthru = len(parts) == 2 and parts[0].kind == "interp"
        return exprs, passthru, rng

    def _parse_template_parts(self, end: str, diags: Diagnostics) -> tuple[list[Part], Range]:
        parts: list[Part] = []
        start_range = self.next_range()
        ltrim_next = False
        next_can_trim_prev = False
        while True:
            nxt = self.read()
            if nxt.type == end:
                end_range = nxt.range
                break
            ltrim, ltrim_next = ltrim_next, False
            can_trim_prev, next_can_trim_prev = next_can_trim_prev, False
            ty = nxt.type
            if ty in (t.STRING_LIT, t.QUOTED_LIT):
                s = decode_string_token(nxt, diags)
                if ltrim:
                    s = s.lstrip(GO_SPACE)
                parts.append(Part("lit", nxt.range, value=s))
                next_can_trim_prev = True
                continue
            if ty in (t.TEMPLATE_INTERP, t.TEMPLATE_CONTROL):
                if can_trim_prev and nxt.text.endswith("~") and parts and parts[-1].kind == "lit":
                    parts[-1].value = parts[-1].value.rstrip(GO_SPACE)
                self.push_nl(False)
                if ty == t.TEMPLATE_INTERP:
                    ltrim_next = self._parse_interp(nxt, start_range, end, parts, diags)
                else:
                    ltrim_next = self._parse_control(nxt, start_range, parts, diags)
                self.pop_nl()
                continue
            if not self.recovery:
                diags.add("Unterminated template string", "No closing marker was found for the string.",
                          nxt.range, start_range.to(nxt.range))
            end_range = self.recover(end).range
            break
        if not parts:
            parts.append(Part("lit", start_range.empty_at_end(), value=""))
        parts.append(Part("end", end_range))
        return parts, start_range.to(end_range)

    def _parse_interp(self, open_: Token, start_range: Range, end: str, parts: list[Part],
                      diags: Diagnostics) -> bool:
        expr = self.parse_expression(diags)
        close = self.peek()
        ltrim_next = False
        if close.type != t.TEMPLATE_SEQ_END:
            if not self.recovery:
                if close.type == t.EOF:
                    diags.add("Unclosed template interpolation sequence",
                              "There is no closing brace for this interpolation sequence before the end of the file. "
                              "This might be caused by incorrect nesting inside the given expression.", start_range)
                elif close.type == t.COLON:
                    diags.add("Extra characters after interpolation expression",
                              "Template interpolation doesn't expect a colon at this location. Did you intend this to "
                              "be a literal sequence to be processed as part of another language? If so, you can "
                              'escape it by starting with "$${" instead of just "${".', close.range,
                              start_range.to(close.range))
                elif close.type in (t.CQUOTE, t.OQUOTE) and end == t.CQUOTE:
                    diags.add("Unclosed template interpolation sequence",
                              "There is no closing brace for this interpolation sequence before the end of the quoted "
                              "template. This might be caused by incorrect nesting inside the given expression.",
                              start_range)
                else:
                    diags.add("Extra characters after interpolation expression",
                              "Expected a closing brace to end the interpolation expression, but found extra "
                              "characters.\n\nThis can happen when you include interpolation syntax for another "
                              "language, such as shell scripting, but forget to escape the interpolation start token. "
                              'If this is an embedded sequence for another language, escape it by starting with "$${" '
                              'instead of just "${".', close.range, start_range.to(close.range))
            self.recover(t.TEMPLATE_SEQ_END)
        else:
            self.read()
            ltrim_next = close.text == "~}"
        parts.append(Part("interp", open_.range.to(close.range), expr=expr))
        return ltrim_next

    def _parse_control(self, open_: Token, start_range: Range, parts: list[Part], diags: Diagnostics) -> bool:
        kw = self.peek()
        if kw.type != t.IDENT:
            if not self.recovery:
                diags.add("Invalid template directive",
                          'A template directive keyword ("if", "for", etc) is expected at the beginning of a %{ '
                          "sequence.", kw.range, open_.range.to(kw.range))
            self.recover(t.TEMPLATE_SEQ_END)
            return False
        self.read()
        word = kw.text
        if word == "if":
            cond = self.parse_expression(diags)
            parts.append(Part("if", open_.range.to(self.next_range()), expr=cond))
        elif word in ("else", "endif", "endfor"):
            parts.append(Part(word, open_.range.to(self.next_range())))
        elif word == "for":
            if not self._parse_for_directive(open_, parts, diags):
                return False
        else:
            if not self.recovery:
                from imagesmith.hcl2.didyoumean import suggest

                hint = suggest(word, ["if", "for", "else", "endif", "endfor"])
                hint = f' Did you mean "{hint}"?' if hint else ""
                diags.add("Invalid template control keyword",
                          f'"{word}" is not a valid template control keyword.{hint}', kw.range,
                          open_.range.to(kw.range))
            self.recover(t.TEMPLATE_SEQ_END)
            return False
        close = self.peek()
        if close.type != t.TEMPLATE_SEQ_END:
            if not self.recovery:
                diags.add(f"Extra characters in {word} marker",
                          "Expected a closing brace to end the sequence, but found extra characters.",
                          close.range, start_range.to(close.range))
            self.recover(t.TEMPLATE_SEQ_END)
            return False
        self.read()
        return close.text == "~}"

    def _parse_for_directive(self, open_: Token, parts: list[Part], diags: Diagnostics) -> bool:
        def fail(detail: str) -> bool:
            if not self.recovery:
                diags.add("Invalid 'for' directive", detail, self.peek().range)
            self.recover(t.TEMPLATE_SEQ_END)
            return False

        if self.peek().type != t.IDENT:
            return fail("For directive requires variable name after 'for'.")
        key_var, val_var = "", self.read().text
        if self.peek().type == t.COMMA:
            key_var = val_var
            self.read()
            if self.peek().type != t.IDENT:
                return fail("For directive requires value variable name after comma.")
            val_var = self.read().text
        nxt = self.peek()
        if nxt.type != t.IDENT or nxt.text != "in":
            return fail("For directive requires 'in' keyword after names.")
        self.read()
        coll = self.parse_expression(diags)
        parts.append(Part("for", open_.range.to(self.next_range()), expr=coll, key_var=key_var, val_var=val_var))
        return True


def _flush_heredoc(parts: list[Part]) -> None:
    """Remove the common leading whitespace of a ``<<-`` heredoc's lines."""
    big = 1 << 62
    min_spaces = big
    newline = True
    adjust: list[Part] = []
    for part in parts:
        if newline:
            newline = False
            spaces = 0
            if part.kind == "lit":
                trimmed = part.value.lstrip(GO_SPACE)
                if not trimmed and part.value.endswith("\n"):
                    spaces = big
                else:
                    spaces = count_graphemes(part.value[: len(part.value) - len(trimmed)])
                    adjust.append(part)
            elif part.kind == "end":
                break
            min_spaces = min(min_spaces, spaces)
        if part.kind == "lit" and part.value.endswith("\n"):
            newline = True
    if min_spaces == big:
        return
    for part in adjust:
        cut = _grapheme_prefix_len(part.value, min_spaces)
        part.value = part.value[cut:]
        part.range = Range(part.range.source, part.range.start + cut, part.range.end)


def _grapheme_prefix_len(text: str, n: int) -> int:
    """Characters making up the first ``n`` grapheme clusters of ``text``."""
    if text.isascii() and "\r" not in text:
        return min(n, len(text))
    i = 0
    while n > 0 and i < len(text):
        j = i + 1
        while j <= len(text) and count_graphemes(text[i:j]) == 1:
            j += 1
        i = j - 1
        n -= 1
    return i


def _meld_literals(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for part in parts:
        if out and part.kind == "lit" and out[-1].kind == "lit":
            prev = out[-1]
            out[-1] = Part("lit", prev.range.to(part.range), value=prev.value + part.value)
        else:
            out.append(part)
    return out


def literal_expr(part: Part) -> ast.Expr:
    return ast.LiteralValue(string_val(part.value), part.range)

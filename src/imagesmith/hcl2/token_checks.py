"""Diagnostics for tokens the scanner accepts but the language forbids (``&``, ``'``, tabs, bad UTF-8...)."""

from __future__ import annotations

from imagesmith.hcl2 import scanner as t
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.scanner import Token

_BITWISE_HINT = {
    t.BIT_AND: ' Did you mean boolean AND ("&&")?',
    t.BIT_OR: ' Did you mean boolean OR ("||")?',
    t.BIT_NOT: ' Did you mean boolean NOT ("!")?',
    t.BIT_XOR: "",
}

_FORBIDDEN = frozenset(
    [*_BITWISE_HINT, t.BACKTICK, t.APOSTROPHE, t.SEMICOLON, t.BAD_UTF8, t.QUOTED_NEWLINE, t.INVALID]
)


def check_invalid_tokens(tokens: list[Token]) -> Diagnostics:
    """One diagnostic per forbidden token (a few kinds are reported only once or twice)."""
    diags = Diagnostics()
    told = {"bitwise": 0, "backtick": 0, "apostrophe": 0, "semicolon": 0, "badutf8": 0}
    for tok in tokens:
        ty = tok.type
        if ty not in _FORBIDDEN:
            continue
        if ty in _BITWISE_HINT:
            if told["bitwise"] < 4:
                diags.add("Unsupported operator", f"Bitwise operators are not supported.{_BITWISE_HINT[ty]}", tok.range)
                told["bitwise"] += 1
        elif ty == t.BACKTICK:
            if told["backtick"] % 2 == 0:
                diags.add("Invalid character", 'The "`" character is not valid. To create a multi-line string, use '
                          'the "heredoc" syntax, like "<<EOT".', tok.range)
            if told["backtick"] <= 2:
                told["backtick"] += 1
        elif ty == t.APOSTROPHE:
            if told["apostrophe"] % 2 == 0:
                diags.add("Invalid character", 'Single quotes are not valid. Use double quotes (") to enclose strings.',
                          tok.range)
            if told["apostrophe"] <= 2:
                told["apostrophe"] += 1
        elif ty == t.SEMICOLON:
            if told["semicolon"] < 1:
                diags.add("Invalid character", 'The ";" character is not valid. Use newlines to separate arguments '
                          "and blocks, and commas to separate items in collection values.", tok.range)
                told["semicolon"] += 1
        elif ty == t.BAD_UTF8:
            if told["badutf8"] < 1:
                diags.add("Invalid character encoding", "All input files must be UTF-8 encoded. Ensure that UTF-8 "
                          "encoding is selected in your editor.", tok.range)
                told["badutf8"] += 1
        elif ty == t.QUOTED_NEWLINE:
            diags.add("Invalid multi-line string", "Quoted strings may not be split over multiple lines. To produce a "
                      "multi-line string, either use the \\n escape to represent a newline character or use the "
                      '"heredoc" multi-line template syntax.', tok.range)
        elif ty == t.INVALID:
            if tok.text in ("\u201c", "\u201d"):
                diags.add("Invalid character", '"Curly quotes" are not valid here. These can sometimes be '
                          "inadvertently introduced when sharing code via documents or discussion forums. It might "
                          'help to replace the character with a "straight quote".', tok.range)
            else:
                diags.add("Invalid character", "This character is not used within the language.", tok.range)
    return diags

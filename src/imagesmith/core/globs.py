"""Glob patterns as current Packer matches ``-only``/``-except`` against HCL2 build names.

Packer compiles each pattern with gobwas/glob and no separators, so ``*`` matches any run of
characters, dots included (``docker.*`` selects every docker source, ``*.foo`` every source
named foo). Also: ``?`` one character, ``[abc]``/``[a-z]``/``[!abc]`` a class, ``{a,b}``
alternatives, ``\\`` escapes the next character. JSON templates keep Packer 1.6.6's exact names.
"""

from __future__ import annotations

import re


class GlobError(ValueError):
    """A pattern that does not compile (an unclosed ``[`` or ``{``, a trailing ``\\``)."""


def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression matching exactly what ``pattern`` matches."""
    out: list[str] = []
    depth = 0  # inside {...}
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 == len(pattern):
                raise GlobError("unexpected end of pattern after \\")
            out.append(re.escape(pattern[i + 1]))
            i += 1
        elif ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0 or end == i + 1:
                raise GlobError("unclosed character class [")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("^", "\\^") + "]")
            i = end
        elif ch == "{":
            depth += 1
            out.append("(?:")
        elif ch == "}" and depth:
            depth -= 1
            out.append(")")
        elif ch == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(ch))
        i += 1
    if depth:
        raise GlobError("unclosed alternatives {")
    return re.compile("".join(out), re.DOTALL)


def matches_any(patterns: list[re.Pattern[str]], name: str) -> bool:
    return any(p.fullmatch(name) for p in patterns)

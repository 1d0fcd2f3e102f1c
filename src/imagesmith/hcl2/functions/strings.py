"""String functions of cty's standard library (and Packer's regex forms of them)."""

from __future__ import annotations

import re
from functools import lru_cache

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.functions.format import FUNCTIONS as FORMAT_FUNCTIONS
from imagesmith.hcl2.parser_template import GO_SPACE
from imagesmith.hcl2.source import count_graphemes
from imagesmith.hcl2.types import BOOL, DYNAMIC, NUMBER, STRING, ListType, ObjectType, TupleType, Type
from imagesmith.hcl2.values import Value, bool_val, object_val, string_val, tuple_val

_S = Param("str", STRING)


def graphemes(s: str) -> list[str]:
    """``s`` split into grapheme clusters."""
    if s.isascii() and "\r" not in s:
        return list(s)
    out: list[str] = []
    for ch in s:
        if out and count_graphemes(out[-1] + ch) == 1:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _str_fn(fn: object, name: str = "str") -> object:
    return make([Param(name, STRING)], STRING, lambda a: string_val(fn(a[0].as_str())))  # type: ignore[operator]


def _title(s: str) -> str:
    out = []
    prev_sep = True
    for ch in s:
        out.append(ch.upper() if prev_sep else ch)
        prev_sep = not (ch.isalnum() or ch == "_")
    return "".join(out)


def _substr(args: list[Value]) -> Value:
    s, offset, length = args[0].as_str(), args[1].as_number(), args[2].as_number()
    if offset.denominator != 1 or length.denominator != 1:
        raise FunctionError("invalid offset" if offset.denominator != 1 else "invalid length")
    g = graphemes(s)
    off, ln = int(offset), int(length)
    if off < 0:
        off += len(g)
        off = max(off, 0)
    if ln < 0:
        return string_val("".join(g[off:]))
    return string_val("".join(g[off : off + ln]))


def _join(args: list[Value]) -> Value:
    sep = args[0].as_str()
    parts: list[str] = []
    for i, lst in enumerate(args[1:], 1):
        for j, e in enumerate(lst.elements()):
            if e.is_null:
                raise FunctionError(f"element {j} of list {i} is null", i)
            parts.append(e.as_str())
    return string_val(sep.join(parts))


def _split(args: list[Value]) -> Value:
    sep, s = args[0].as_str(), args[1].as_str()
    parts = list(s) if sep == "" else s.split(sep)
    return Value(ListType(STRING), [string_val(p) for p in parts])


def go_regex(pattern: str) -> re.Pattern[str]:
    """A Go RE2 pattern compiled as a Python regex (the common syntax is shared)."""
    return _compile(pattern)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    py = pattern.replace(r"\z", r"\Z").replace("(?P<", "(?P<")
    try:
        return re.compile(py)
    except re.error as exc:
        raise FunctionError(f"invalid regular expression pattern: {exc}") from None


def go_expand(template: str) -> str:
    """A Go regexp replacement template (``$1``, ``${name}``) in Python's ``\\g<...>`` syntax."""
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(2)
        return f"\\g<{name}>"

    escaped = template.replace("\\", "\\\\")
    return re.sub(r"\$(?:\{(\w+)\}|(\w+)|\$)", sub, escaped)


def _replace(args: list[Value]) -> Value:
    # cty's replace, which Packer uses, is a plain substring replacement: "/re/" is not a regex here
    # (that is Terraform's variant; Packer has regex_replace for it).
    s, sub, rep = (a.as_str() for a in args)
    return string_val(s.replace(sub, rep))


def _regex_replace(args: list[Value]) -> Value:
    s, pattern, rep = (a.as_str() for a in args)
    return string_val(go_regex(pattern).sub(go_expand(rep), s))


def _regex_result(pat: re.Pattern[str], m: re.Match[str]) -> Value:
    if pat.groupindex:
        return object_val({name: string_val(m.group(name) or "") for name in pat.groupindex})
    if pat.groups:
        return tuple_val(string_val(g or "") for g in m.groups()) if False else Value(
            ListType(STRING), [string_val(g or "") for g in m.groups()])
    return string_val(m.group(0))


def _regex_type(pat: re.Pattern[str]) -> Type:
    if pat.groupindex:
        return ObjectType({name: STRING for name in pat.groupindex})
    return ListType(STRING) if pat.groups else STRING


def _regex(args: list[Value]) -> Value:
    pat = go_regex(args[0].as_str())
    if pat.groupindex and len(pat.groupindex) != pat.groups:
        raise FunctionError("invalid regular expression pattern: can't mix capture group names and unnamed "
                            "capture groups", 0)
    m = pat.search(args[1].as_str())
    if m is None:
        raise FunctionError("pattern did not match any part of the given string")
    return _regex_result(pat, m)


def _regexall(args: list[Value]) -> Value:
    pat = go_regex(args[0].as_str())
    found = [_regex_result(pat, m) for m in pat.finditer(args[1].as_str())]
    return Value(ListType(_regex_type(pat)), found)


def _indent(args: list[Value]) -> Value:
    n = args[0].as_number()
    pad = " " * int(n)
    return string_val(args[1].as_str().replace("\n", "\n" + pad))


def _chomp(s: str) -> str:
    return re.sub(r"(?:\r\n?|\n)*\Z", "", s)


def _trim(args: list[Value]) -> Value:
    return string_val(args[0].as_str().strip(args[1].as_str()))


def _trimprefix(args: list[Value]) -> Value:
    return string_val(args[0].as_str().removeprefix(args[1].as_str()))


def _trimsuffix(args: list[Value]) -> Value:
    return string_val(args[0].as_str().removesuffix(args[1].as_str()))


def _pred(fn: object) -> object:
    return make([_S, Param("substr", STRING)], BOOL,
                lambda a: bool_val(fn(a[0].as_str(), a[1].as_str())))  # type: ignore[operator]


def _regex_type_fn(args: list[Value]) -> Type:
    return _regex_type(go_regex(args[0].as_str())) if args[0].is_known else DYNAMIC


FUNCTIONS = {
    "upper": _str_fn(str.upper),
    "lower": _str_fn(str.lower),
    "title": _str_fn(_title),
    "strrev": _str_fn(lambda s: "".join(reversed(graphemes(s)))),
    "trimspace": _str_fn(lambda s: s.strip(GO_SPACE)),
    "chomp": _str_fn(_chomp),
    "trim": make([_S, Param("cutset", STRING)], STRING, _trim),
    "trimprefix": make([_S, Param("prefix", STRING)], STRING, _trimprefix),
    "trimsuffix": make([_S, Param("suffix", STRING)], STRING, _trimsuffix),
    "substr": make([_S, Param("offset", NUMBER), Param("length", NUMBER)], STRING, _substr),
    "join": make([Param("separator", STRING)], STRING, _join, Param("lists", ListType(STRING))),
    "split": make([Param("separator", STRING), _S], ListType(STRING), _split),
    "replace": make([_S, Param("substr", STRING), Param("replace", STRING)], STRING, _replace),
    "regex_replace": make([_S, Param("pattern", STRING), Param("replace", STRING)], STRING, _regex_replace),
    "regex": make([Param("pattern", STRING), Param("string", STRING)], _regex_type_fn, _regex),
    "regexall": make([Param("pattern", STRING), Param("string", STRING)],
                     lambda a: ListType(_regex_type_fn(a)), _regexall),
    "indent": make([Param("spaces", NUMBER), _S], STRING, _indent),
    "strcontains": _pred(lambda s, sub: sub in s),
    "startswith": _pred(str.startswith),
    "endswith": _pred(str.endswith),
    **FORMAT_FUNCTIONS,
}
_ = TupleType

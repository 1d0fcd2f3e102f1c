"""``format`` and ``formatlist``: printf-style verbs as cty implements them (``stdlib/format.go``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.functions.jsonenc import encode_json
from imagesmith.hcl2.numbers import format_number
from imagesmith.hcl2.source import count_graphemes
from imagesmith.hcl2.types import BOOL, DYNAMIC, NUMBER, STRING, ListType, SetType, TupleType
from imagesmith.hcl2.values import Value, string_val, unknown_val

_VERB = re.compile(r"%(?P<flags>[0#+\- ]*)(?P<width>[1-9][0-9]*)?(?P<prec>\.[0-9]*)?(?:\[(?P<idx>[1-9][0-9]*)\])?"
                   r"(?P<mode>[A-Za-z])?")


@dataclass
class _Verb:
    raw: str
    offset: int
    flags: str
    width: int
    prec: int
    mode: str
    argnum: int


def format_string(fmt: str, args: list[Value]) -> str:
    """Apply ``fmt`` to ``args``; raises FunctionError with cty's messages."""
    out: list[str] = []
    next_arg = 1
    highest = 0
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if fmt.startswith("%%", i):
            out.append("%")
            i += 2
            continue
        m = _VERB.match(fmt, i)
        assert m is not None
        if m.group("mode") is None:
            if m.end() >= len(fmt):
                raise FunctionError(f"invalid format string starting at offset {m.end()}", 0)
            bad = fmt[m.end()]
            raise FunctionError(f"unrecognized format character {_goquote_rune(bad)} at offset {m.end()}", 0)
        prec = m.group("prec")
        verb = _Verb(m.group(), i, m.group("flags"), int(m.group("width") or -1),
                     int(prec[1:] or 0) if prec else -1, m.group("mode"),
                     int(m.group("idx")) if m.group("idx") else next_arg)
        highest = max(highest, verb.argnum)
        out.append(_append(verb, args))
        next_arg = verb.argnum + 1
        i = m.end()
    if highest < len(args):
        if highest == 0:
            raise FunctionError("too many arguments; no verbs in format string", 0)
        raise FunctionError(f"too many arguments; only {highest} used by format string", 0)
    return "".join(out)


def _goquote_rune(ch: str) -> str:
    return "'" + ch.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _err(verb: _Verb, msg: str) -> FunctionError:
    return FunctionError(f"unsupported value for {_goquote(verb.raw)} at {verb.offset}: {msg}", 0)


def _goquote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _append(verb: _Verb, args: list[Value]) -> str:
    idx = verb.argnum - 1
    if idx >= len(args):
        raise FunctionError(f"not enough arguments for {_goquote(verb.raw)} at {verb.offset}: need index "
                            f"{verb.argnum} but have {len(args)} total", 0)
    arg = args[idx]
    if verb.mode != "v" and arg.is_null:
        raise FunctionError(f"unsupported value for {_goquote(verb.raw)} at {verb.offset}: null value cannot be "
                            "formatted", 0)
    mode = verb.mode
    try:
        if mode == "v":
            return _pad(verb, _as_is(verb, arg))
        if mode == "t":
            return "true" if convert(arg, BOOL).as_bool() else "false"
        if mode in "bdoxXeEfgG":
            return _number(verb, convert(arg, NUMBER).as_number())
        if mode in "sq":
            return _string(verb, convert(arg, STRING).as_str())
    except ConversionError as exc:
        raise _err(verb, str(exc)) from None
    raise FunctionError(f"unsupported format verb {_goquote_rune(mode)} in {_goquote(verb.raw)} at offset "
                        f"{verb.offset}", 0)


def _as_is(verb: _Verb, arg: Value) -> str:
    if "#" not in verb.flags and not arg.is_null:
        if arg.type == STRING:
            return arg.as_str()
        if arg.type == NUMBER:
            return format_g(arg.as_number(), -1)
    return encode_json(arg)


def _pad(verb: _Verb, s: str) -> str:
    if verb.width < 0:
        return s
    n = count_graphemes(s)
    if n >= verb.width:
        return s
    pad = ("0" if "0" in verb.flags else " ") * (verb.width - n)
    return s + pad if "-" in verb.flags else pad + s


def _string(verb: _Verb, s: str) -> str:
    if verb.prec > 0:
        s = _first_graphemes(s, verb.prec)
    if verb.mode == "q":
        s = encode_json(string_val(s))
    return _pad(verb, s)


def _first_graphemes(s: str, n: int) -> str:
    for end in range(len(s) + 1):
        if count_graphemes(s[:end]) > n:
            return s[: end - 1]
    return s


def _number(verb: _Verb, num: Fraction) -> str:
    flags = verb.flags
    if verb.mode in "bdoxX":
        if num.denominator != 1:
            raise _err(verb, "an integer is required")
        n = num.numerator
        body = format(abs(n), {"b": "b", "d": "d", "o": "o", "x": "x", "X": "X"}[verb.mode])
        if verb.prec >= 0:
            body = body.rjust(verb.prec, "0")
        if "#" in flags:
            body = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb.mode, "") + body
    else:
        body = _float(verb.mode, abs(num), verb.prec)
        n = -1 if num < 0 else 1
    sign = "-" if n < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
    text = sign + body
    if verb.width > len(text):
        if "-" in flags:
            return text.ljust(verb.width)
        if "0" in flags:
            return sign + body.rjust(verb.width - len(sign), "0")
        return text.rjust(verb.width)
    return text


def _float(mode: str, num: Fraction, prec: int) -> str:
    if mode in "gG":
        text = format_g(num, prec)
        return text.upper() if mode == "G" else text
    if prec < 0:
        prec = 6
    with localcontext() as ctx:
        ctx.prec = 600
        dec = Decimal(num.numerator) / Decimal(num.denominator)
        if mode == "f":
            return format(dec, f".{prec}f")
        text = format(dec, f".{prec}e")
    mant, _, exp = text.partition("e")
    e = int(exp)
    text = f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    return text.upper() if mode == "E" else text


def format_g(num: Fraction, prec: int) -> str:
    """big.Float's 'g' format: shortest digits when ``prec`` < 0 (exponent form from 1e+06 up)."""
    neg = num < 0
    num = -num if neg else num
    if num == 0:
        return "0"
    with localcontext() as ctx:
        if prec < 0:
            short = format_number(num)
            ctx.prec = max(1, len(short.replace(".", "").lstrip("0")))
        else:
            ctx.prec = max(prec, 1)
        dec = +(Decimal(num.numerator) / Decimal(num.denominator))
    _sign, ds, exp = dec.as_tuple()
    assert isinstance(exp, int)
    mant = "".join(map(str, ds)).rstrip("0") or "0"
    dexp = len(ds) + exp  # value = 0.mant * 10**dexp
    e10 = dexp - 1
    if prec < 0:
        eprec = 6
    else:
        eprec = max(prec, 1)
        if eprec > len(mant) and len(mant) >= dexp:
            eprec = len(mant)
    if e10 < -4 or e10 >= eprec:
        frac = mant[1:]
        text = mant[0] + ("." + frac if frac else "") + f"e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    elif e10 >= 0:
        whole = mant[: e10 + 1].ljust(e10 + 1, "0")
        frac = mant[e10 + 1 :]
        text = whole + ("." + frac if frac else "")
    else:
        text = "0." + "0" * (-e10 - 1) + mant
    return ("-" if neg else "") + text


def _format(args: list[Value]) -> Value:
    if any(not a.is_wholly_known() for a in args[1:]):
        return unknown_val(STRING)
    return string_val(format_string(args[0].as_str(), args[1:]))


def _formatlist(args: list[Value]) -> Value:
    fmt, rest = args[0].as_str(), args[1:]
    n = -1
    for i, a in enumerate(rest):
        if not a.is_null and isinstance(a.type, (ListType, SetType, TupleType)):
            if not a.is_known:
                return unknown_val(ListType(STRING))
            if n >= 0 and a.length() != n:
                raise FunctionError(f"argument {i + 1} has length {a.length()}, which is inconsistent with "
                                    f"argument 1 of length {n}", i + 1)
            n = a.length() if n < 0 else n
    if n < 0:
        n = 1
    out = []
    for k in range(n):
        row = [a.elements()[k] if not a.is_null and isinstance(a.type, (ListType, SetType, TupleType)) else a
               for a in rest]
        if any(not r.is_wholly_known() for r in row):
            out.append(unknown_val(STRING))
            continue
        out.append(string_val(format_string(fmt, row)))
    return Value(ListType(STRING), out)


_ARGS = Param("args", DYNAMIC, allow_null=True, allow_unknown=True)
FUNCTIONS = {
    "format": make([Param("format", STRING)], STRING, _format, _ARGS),
    "formatlist": make([Param("format", STRING)], ListType(STRING), _formatlist, _ARGS),
}

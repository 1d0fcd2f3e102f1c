"""Go's ``fmt.Sprintf`` for the verbs templates use, with Go's ``%!verb(type=value)`` error marks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imagesmith.template.engine.gofmt import format_float, format_value, quote_string, type_name

_MAX_WIDTH = 1_000_000  # Go's fmt rejects larger widths and precisions (tooLarge)


@dataclass
class _Spec:
    minus: bool = False
    plus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    prec: int | None = None


def sprintf(fmt: str, args: Sequence[Any]) -> str:
    """Format ``args`` according to the Go format string ``fmt``."""
    out: list[str] = []
    argi = 0
    i = 0
    n = len(fmt)
    while i < n:
        pct = fmt.find("%", i)
        if pct < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:pct])
        i = pct + 1
        spec, i, argi = _parse_spec(fmt, i, args, argi, out)
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(format_one(verb, spec, args[argi]))
        argi += 1
    if argi < len(args):
        extra = ", ".join(f"{type_name(a)}={format_value(a)}" if a is not None else "<nil>" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _parse_spec(fmt: str, i: int, args: Sequence[Any], argi: int, out: list[str]) -> tuple[_Spec, int, int]:
    """Flags, width and precision after a ``%``; BADWIDTH/BADPREC marks go to ``out`` as in Go."""
    n = len(fmt)
    spec = _Spec()
    while i < n and fmt[i] in "-+# 0":
        flag = fmt[i]
        spec.minus |= flag == "-"
        spec.plus |= flag == "+"
        spec.sharp |= flag == "#"
        spec.space |= flag == " "
        spec.zero |= flag == "0" and not spec.minus
        i += 1
    if i < n and fmt[i] == "*":
        spec.width, argi = _int_from_arg(args, argi)
        i += 1
        if spec.width is None:
            out.append("%!(BADWIDTH)")
        elif spec.width < 0:
            spec.minus, spec.zero, spec.width = True, False, -spec.width
    else:
        spec.width, i = _parse_num(fmt, i)
    if i < n and fmt[i] == ".":
        i += 1
        if i < n and fmt[i] == "*":
            spec.prec, argi = _int_from_arg(args, argi)
            i += 1
            if spec.prec is not None and spec.prec < 0:
                spec.prec = None
            if spec.prec is None:
                out.append("%!(BADPREC)")
        else:
            prec, i = _parse_num(fmt, i)
            spec.prec = prec or 0
    return spec, i, argi


def _parse_num(fmt: str, i: int) -> tuple[int | None, int]:
    """Go's parsenum: digits at ``i``; an absurdly long number swallows the rest of the format."""
    num = None
    while i < len(fmt) and "0" <= fmt[i] <= "9":
        if num is not None and num > _MAX_WIDTH:
            return None, len(fmt)
        num = (num or 0) * 10 + int(fmt[i])
        i += 1
    return num, i


def _int_from_arg(args: Sequence[Any], argi: int) -> tuple[int | None, int]:
    """Go's intFromArg: a ``*`` width or precision taken from the arguments."""
    if argi >= len(args):
        return None, argi
    value = args[argi]
    if isinstance(value, bool) or not isinstance(value, int) or not -_MAX_WIDTH <= value <= _MAX_WIDTH:
        return None, argi + 1
    return value, argi + 1


def _bad(verb: str, arg: Any, spec: _Spec | None = None) -> str:
    """Go's badVerb: the value is printed with %v under the same flags, width and precision."""
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(arg)}={format_one('v', spec or _Spec(), arg)})"


def format_one(verb: str, spec: _Spec, arg: Any) -> str:
    """Format a single operand with a single verb, padding included."""
    if verb == "T":
        return _pad(type_name(arg) if arg is not None else "<nil>", spec)
    if arg is None:
        return _pad("<nil>", spec) if verb == "v" else _bad(verb, arg, spec)
    if isinstance(arg, bool):
        return _pad("true" if arg else "false", spec) if verb in "tv" else _bad(verb, arg, spec)
    if isinstance(arg, int):
        return _format_int(verb, spec, arg)
    if isinstance(arg, float):
        return _format_float(verb, spec, arg)
    if isinstance(arg, str):
        return _format_str(verb, spec, arg)
    if isinstance(arg, Mapping):
        items = sorted(arg.items(), key=lambda kv: str(kv[0]))
        inner = " ".join(f"{format_one(verb, _Spec(), k)}:{format_one(verb, _Spec(), v)}" for k, v in items)
        return _pad(f"map[{inner}]", spec)
    if isinstance(arg, (list, tuple)):
        return _pad("[" + " ".join(format_one(verb, _Spec(), v) for v in arg) + "]", spec)
    return _pad(format_value(arg), spec) if verb in "vs" else _bad(verb, arg, spec)


def _pad(text: str, spec: _Spec, numeric: bool = False) -> str:
    width = spec.width or 0
    if len(text) >= width:
        return text
    fill = width - len(text)
    if spec.minus:
        return text + " " * fill
    if spec.zero and numeric:
        sign = text[0] if text[:1] in "+- " else ""
        return sign + "0" * fill + text[len(sign) :]
    if spec.zero and not numeric:
        return "0" * fill + text
    return " " * fill + text


def _sign(value: float | int, spec: _Spec) -> str:
    if value < 0 or (isinstance(value, float) and str(value).startswith("-")):
        return "-"
    return "+" if spec.plus else (" " if spec.space else "")


def _format_int(verb: str, spec: _Spec, value: int) -> str:
    if verb == "c":
        return _pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd", spec)
    if verb == "q":
        ch = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
        return _pad("'" + quote_string(ch)[1:-1].replace('\\"', '"').replace("'", "\\'") + "'", spec)
    if verb == "U":
        text = f"U+{value:04X}"
        if spec.sharp and 0 <= value <= 0x10FFFF and chr(value).isprintable():
            text += f" '{chr(value)}'"
        return _pad(text, spec)
    bases = {"d": 10, "v": 10, "x": 16, "X": 16, "o": 8, "O": 8, "b": 2}
    if verb not in bases:
        return _bad(verb, value, spec)
    digits = format(abs(value), {10: "d", 16: "x", 8: "o", 2: "b"}[bases[verb]])
    if verb == "X":
        digits = digits.upper()
    if spec.prec is not None:
        digits = digits.zfill(spec.prec) if not (spec.prec == 0 and value == 0) else ""
    prefix = ""
    if spec.sharp or verb == "O":
        prefix = {"x": "0x", "X": "0X", "o": "0" if not digits.startswith("0") else "", "O": "0o", "b": "0b"}.get(
            verb, ""
        )
    text = _sign(value, spec) + prefix + digits
    if spec.zero and spec.prec is None and not spec.minus and spec.width:
        sign_part = len(_sign(value, spec) + prefix)
        text = text[:sign_part] + text[sign_part:].rjust(spec.width - sign_part, "0")
    return _pad(text, spec)


def _format_float(verb: str, spec: _Spec, value: float) -> str:
    if verb not in "eEfFgGv":
        return _bad(verb, value, spec)
    go_verb = "g" if verb == "v" else ("f" if verb == "F" else verb)
    prec = spec.prec if spec.prec is not None else (-1 if go_verb in "gG" else 6)
    body = format_float(abs(value), go_verb, prec)
    text = _sign(value, spec) + body if body not in ("NaN",) else body
    if spec.zero and not spec.minus and spec.width and body not in ("NaN", "+Inf", "-Inf"):
        sign_len = len(text) - len(body)
        text = text[:sign_len] + body.rjust(spec.width - sign_len, "0")
    return _pad(text, spec)


def _format_str(verb: str, spec: _Spec, value: str) -> str:
    if spec.prec is not None and verb in "sqv":
        value = value[: spec.prec]
    if verb in "sv":
        return _pad(value, spec)
    if verb == "q":
        return _pad(quote_string(value, plus=spec.plus, sharp=spec.sharp), spec)
    if verb in "xX":
        data = value.encode("utf-8")
        parts = [format(b, "02x" if verb == "x" else "02X") for b in data]
        prefix = ("0x" if verb == "x" else "0X") if spec.sharp else ""
        if spec.space:
            return _pad(" ".join(prefix + p for p in parts), spec)
        return _pad(prefix + "".join(parts), spec)
    return _bad(verb, value, spec)

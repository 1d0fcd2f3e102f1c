"""Date and time functions: timestamp, formatdate, timeadd and Packer's legacy_isotime/legacy_strftime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.types import DYNAMIC, NUMBER, STRING
from imagesmith.hcl2.values import Value, number_val, object_val, string_val
from imagesmith.template.gotime import RFC3339, format_go_time, format_strftime

_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
_TOKENS = re.compile(r"'[^']*'|'|YYYY|YY|MMMM|MMM|MM|M|DD|D|EEEE|EEE|hh|h|HH|H|AA|aa|mm|m|ss|s"
                     r"|ZZZZZ|ZZZZ|ZZZ|Z|[A-Za-z]+|[^A-Za-z']+")
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def now() -> datetime:
    return datetime.now(UTC)


def parse_rfc3339(s: str, arg: int = 0) -> datetime:
    m = _RFC3339_RE.match(s)
    if m is None:
        raise FunctionError(f'not a valid RFC3339 timestamp: cannot use "{s}" as year', arg)
    y, mo, d, h, mi, sec, frac, zone = m.groups()
    tz = UTC
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    micro = int((frac or ".0")[1:7].ljust(6, "0"))
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), micro, tzinfo=tz)
    except ValueError as exc:
        raise FunctionError(f'not a valid RFC3339 timestamp: {exc}', arg) from None


def _formatdate(args: list[Value]) -> Value:
    spec, t = args[0].as_str(), parse_rfc3339(args[1].as_str(), 1)
    out: list[str] = []
    for tok in _TOKENS.findall(spec):
        if tok.startswith("'"):
            if len(tok) < 2 or not tok.endswith("'"):
                raise FunctionError("unterminated literal '", 0)
            out.append("'" if tok == "''" else tok[1:-1])
            continue
        out.append(_date_token(tok, t))
    return string_val("".join(out))


def _date_token(tok: str, t: datetime) -> str:
    off = t.utcoffset() or timedelta()
    mins = int(off.total_seconds() // 60)
    sign = "-" if mins < 0 else "+"
    hh, mm = divmod(abs(mins), 60)
    table = {
        "YYYY": f"{t.year:04d}", "YY": f"{t.year % 100:02d}", "MMMM": t.strftime("%B"), "MMM": t.strftime("%b"),
        "MM": f"{t.month:02d}", "M": str(t.month), "DD": f"{t.day:02d}", "D": str(t.day),
        "EEEE": t.strftime("%A"), "EEE": t.strftime("%a"), "hh": f"{t.hour:02d}", "h": str(t.hour),
        "HH": f"{(t.hour % 12) or 12:02d}", "H": str((t.hour % 12) or 12), "AA": "PM" if t.hour >= 12 else "AM",
        "aa": "pm" if t.hour >= 12 else "am", "mm": f"{t.minute:02d}", "m": str(t.minute),
        "ss": f"{t.second:02d}", "s": str(t.second),
        "ZZZZZ": f"{sign}{hh:02d}:{mm:02d}", "ZZZZ": f"{sign}{hh:02d}{mm:02d}",
        "ZZZ": "UTC" if mins == 0 else f"{sign}{hh:02d}{mm:02d}", "Z": "Z" if mins == 0 else f"{sign}{hh:02d}:{mm:02d}",
    }
    if tok in table:
        return table[tok]
    if tok[0].isalpha():
        raise FunctionError(f'invalid date format verb "{tok}"', 0)
    return tok


def parse_duration(s: str) -> timedelta:
    """A Go duration string ("1h30m", "-5s")."""
    body = s[1:] if s[:1] in "+-" else s
    if body == "0":
        return timedelta()
    pos, total = 0, Decimal(0)
    for m in _DURATION.finditer(body):
        if m.start() != pos:
            break
        total += Decimal(m.group(1)) * Decimal(str(_UNIT[m.group(2)]))
        pos = m.end()
    if pos != len(body) or not body:
        raise FunctionError(f'time: invalid duration "{s}"', 1)
    secs = float(total)
    return timedelta(seconds=-secs if s.startswith("-") else secs)


def format_rfc3339(t: datetime) -> str:
    return format_go_time(t, RFC3339)


def _timeadd(args: list[Value]) -> Value:
    t = parse_rfc3339(args[0].as_str())
    return string_val(format_rfc3339(t + parse_duration(args[1].as_str())))


def _parts(t: datetime) -> dict[str, Value]:
    iso_year, iso_week, _ = t.isocalendar()
    return {
        "year": number_val(t.year), "year_day": number_val(t.timetuple().tm_yday), "day": number_val(t.day),
        "month": number_val(t.month), "month_name": string_val(t.strftime("%B")),
        "weekday": number_val((t.weekday() + 1) % 7), "weekday_name": string_val(t.strftime("%A")),
        "hour": number_val(t.hour), "minute": number_val(t.minute), "second": number_val(t.second),
        "iso_year": number_val(iso_year), "iso_week": number_val(iso_week),
    }


def _rfc3339_parse(args: list[Value]) -> Value:
    s = args[0].as_str()
    try:
        t = parse_rfc3339(s)
    except FunctionError:
        raise FunctionError(f'"{s}" is not a valid RFC3339 timestamp', 0) from None
    return object_val({**_parts(t), "unix": number_val(int(t.timestamp()))})


def _unix_timestamp_parse(args: list[Value]) -> Value:
    n = args[0].as_number()
    if n.denominator != 1 or not -(2**63) <= n < 2**63:
        raise FunctionError("unix_timestamp must be a whole number of seconds representable as a 64-bit integer", 0)
    t = datetime.fromtimestamp(int(n), UTC)
    return object_val({**_parts(t), "rfc3339": string_val(format_rfc3339(t))})


FUNCTIONS = {
    "rfc3339_parse": make([Param("timestamp", STRING)], DYNAMIC, _rfc3339_parse),
    "unix_timestamp_parse": make([Param("unix_timestamp", NUMBER)], DYNAMIC, _unix_timestamp_parse),
    "timestamp": make([], STRING, lambda a: string_val(format_rfc3339(now().replace(microsecond=0)))),
    "formatdate": make([Param("format", STRING), Param("time", STRING)], STRING, _formatdate),
    "timeadd": make([Param("timestamp", STRING), Param("duration", STRING)], STRING, _timeadd),
    "legacy_isotime": make([Param("format", STRING)], STRING,
                           lambda a: string_val(format_go_time(now(), a[0].as_str()))),
    "legacy_strftime": make([Param("format", STRING)], STRING,
                            lambda a: string_val(format_strftime(now(), a[0].as_str()))),
}

"""Value types that Packer configs use: Go durations, and their Go-style rendering."""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class Duration(float):
    """A duration in seconds, parsed from and printed as a Go duration (``1m30s``)."""

    def __str__(self) -> str:
        return format_go_duration(float(self))

    def __repr__(self) -> str:
        return f"Duration({format_go_duration(float(self))!r})"


def parse_go_duration(text: str) -> Duration:
    """Parse Go's ``time.ParseDuration`` syntax: ``300ms``, ``-1.5h``, ``2h45m``, ``0``.

    Raises ValueError with Go's message shape on bad input.
    """
    s = text.strip()
    if s in ("0", "+0", "-0"):
        return Duration(0.0)
    sign = 1.0
    if s[:1] in "+-" and s:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if not s:
        raise ValueError(f'time: invalid duration "{text}"')
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            if re.match(r"(\d+\.?\d*|\.\d+)", s[pos:]) and not re.match(r"(\d+\.?\d*|\.\d+)[a-zµμ]", s[pos:]):
                raise ValueError(f'time: missing unit in duration "{text}"')
            if re.match(r"(\d+\.?\d*|\.\d+)([a-zµμ]+)", s[pos:]):
                unit = re.match(r"(\d+\.?\d*|\.\d+)([a-zµμ]+)", s[pos:])
                assert unit
                raise ValueError(f'time: unknown unit "{unit.group(2)}" in duration "{text}"')
            raise ValueError(f'time: invalid duration "{text}"')
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return Duration(sign * total)


def format_go_duration(seconds: float) -> str:
    """Render seconds as Go's ``Duration.String()`` does: ``1h2m3s``, ``1.5s``, ``300ms``, ``0s``."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rem = divmod(ns, 3_600_000_000_000)
    minutes, rem = divmod(rem, 60_000_000_000)
    secs = rem / 1e9
    out = ""
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return sign + out + _trim(secs) + "s"


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"

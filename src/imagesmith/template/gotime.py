"""Time formatting as Packer's ``isotime`` (Go layouts) and ``strftime`` (jehiah/go-strftime) do it."""

from __future__ import annotations

from datetime import datetime

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Layout chunks tried at each position, longest first within a leading character (Go's nextStdChunk).
_CHUNKS: dict[str, tuple[str, ...]] = {
    "J": ("January", "Jan"),
    "M": ("Monday", "Mon", "MST"),
    "0": ("01", "02", "03", "04", "05", "06", "002"),
    "1": ("15", "1"),
    "2": ("2006", "2"),
    "_": ("__2", "_2"),
    "3": ("3",),
    "4": ("4",),
    "5": ("5",),
    "P": ("PM",),
    "p": ("pm",),
    "-": ("-07:00:00", "-070000", "-07:00", "-0700", "-07"),
    "Z": ("Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07"),
}


def _offset_text(t: datetime, chunk: str) -> str:
    offset = t.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if chunk.startswith("Z") and seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    body = chunk.lstrip("Z-")
    if body == "07":
        return f"{sign}{hh:02d}"
    if body == "0700":
        return f"{sign}{hh:02d}{mm:02d}"
    if body == "07:00":
        return f"{sign}{hh:02d}:{mm:02d}"
    if body == "070000":
        return f"{sign}{hh:02d}{mm:02d}{ss:02d}"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"


def _std_value(t: datetime, chunk: str) -> str:  # one branch per layout element
    hour12 = t.hour % 12 or 12
    yday = t.timetuple().tm_yday
    simple = {
        "January": _MONTHS[t.month - 1],
        "Jan": _MONTHS[t.month - 1][:3],
        "Monday": _DAYS[t.weekday()],
        "Mon": _DAYS[t.weekday()][:3],
        "MST": t.tzname() or "UTC",
        "01": f"{t.month:02d}",
        "1": str(t.month),
        "02": f"{t.day:02d}",
        "2": str(t.day),
        "_2": f"{t.day:2d}",
        "002": f"{yday:03d}",
        "__2": f"{yday:3d}",
        "03": f"{hour12:02d}",
        "3": str(hour12),
        "15": f"{t.hour:02d}",
        "04": f"{t.minute:02d}",
        "4": str(t.minute),
        "05": f"{t.second:02d}",
        "5": str(t.second),
        "06": f"{t.year % 100:02d}",
        "2006": f"{t.year:04d}",
        "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am",
    }
    if chunk in simple:
        return simple[chunk]
    return _offset_text(t, chunk)


def _match_chunk(layout: str, i: int) -> str | None:
    ch = layout[i]
    if ch == "_" and layout.startswith("_2006", i):
        return None  # "_2006" is a literal "_" followed by the year
    for chunk in _CHUNKS.get(ch, ()):
        if layout.startswith(chunk, i):
            if chunk == "Jan" or chunk == "Mon":
                # "Jan"/"Mon" must not be the start of a longer word (Go checks the next rune is not lower case).
                after = layout[i + 3 : i + 4]
                if after and after.islower() and not layout.startswith(("January", "Monday"), i):
                    return None
            return chunk
    return None


def _fraction(layout: str, i: int) -> int:
    """Length of a fractional-second element (``.000`` / ``,999``) at ``i``, or 0."""
    if layout[i] not in ".," or i + 1 >= len(layout) or layout[i + 1] not in "09":
        return 0
    digit = layout[i + 1]
    j = i + 1
    while j < len(layout) and layout[j] == digit:
        j += 1
    if j < len(layout) and layout[j].isdigit():
        return 0
    return j - i


def format_go_time(t: datetime, layout: str) -> str:
    """Go's ``time.Time.Format(layout)`` (reference time ``Mon Jan 2 15:04:05 MST 2006``)."""
    out: list[str] = []
    i = 0
    nanos = f"{t.microsecond * 1000:09d}"
    while i < len(layout):
        frac = _fraction(layout, i)
        if frac:
            digits = nanos[: frac - 1]
            if layout[i + 1] == "9":
                digits = digits.rstrip("0")
                if digits:
                    out.append(layout[i] + digits)
            else:
                out.append(layout[i] + digits)
            i += frac
            continue
        chunk = _match_chunk(layout, i)
        if chunk is None:
            out.append(layout[i])
            i += 1
            continue
        out.append(_std_value(t, chunk))
        i += len(chunk)
    return "".join(out)


RFC3339 = "2006-01-02T15:04:05Z07:00"

_STRFTIME = {
    "B": "January",
    "b": "Jan",
    "m": "01",
    "A": "Monday",
    "a": "Mon",
    "d": "02",
    "H": "15",
    "I": "03",
    "M": "04",
    "S": "05",
    "Y": "2006",
    "y": "06",
    "p": "PM",
    "Z": "MST",
    "z": "-0700",
    "L": ".000",
}


def format_strftime(t: datetime, fmt: str) -> str:
    """C-style ``strftime`` as jehiah/go-strftime implements it: known directives become Go layouts;
    ``%%`` is a percent sign; unknown directives and a trailing ``%`` are kept as they are."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        pct = fmt.find("%", i)
        if pct < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:pct])
        if pct + 1 >= len(fmt):
            out.append("%")
            break
        code = fmt[pct + 1]
        if code == "%":
            out.append("%")
        elif code in _STRFTIME:
            out.append(format_go_time(t, _STRFTIME[code]))
        else:
            out.append("%" + code)
        i = pct + 2
    return "".join(out)

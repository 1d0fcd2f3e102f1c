"""Go time layouts (isotime) and jehiah/go-strftime directives (strftime).

The reference instant ``Mon Jan 2 15:04:05 2006`` formatted with a Go layout gives the layout back
(apart from zone fields, which read UTC / Z / +0000 here); that is the property Go documents.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from imagesmith.template.gotime import RFC3339, format_go_time, format_strftime

REF = datetime(2006, 1, 2, 15, 4, 5, 123456, tzinfo=UTC)
AFTERNOON = datetime(2021, 11, 9, 3, 7, 9, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    "layout",
    [
        "2006-01-02",
        "Mon Jan 2 15:04:05 2006",
        "Monday, 02-Jan-06 15:04:05",
        "3:04PM",
        "Jan 2 15:04:05",
        "20060102150405",
    ],
)
def test_reference_time_formats_to_the_layout(layout: str) -> None:
    assert format_go_time(REF, layout) == layout


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (RFC3339, "2021-11-09T03:07:09Z"),
        ("Z07:00 -07:00 -0700 Z0700 -07 MST", "Z +00:00 +0000 Z +00 UTC"),
        ("3 03 15 pm PM", "3 03 03 am AM"),
        ("1 01 Jan January 2 _2 02 002 __2", "11 11 Nov November 9  9 09 313 313"),
        (".000 ,000 .999 .9 .000000", ".500 ,500 .5 .5 .500000"),
        ("Janx Monx _2006", "Janx Monx _2021"),
        ("2006-01-02T15:04:05.999999999Z07:00", "2021-11-09T03:07:09.5Z"),
    ],
)
def test_layout_elements(layout: str, expected: str) -> None:
    assert format_go_time(AFTERNOON, layout) == expected


def test_fraction_of_nines_disappears_when_zero() -> None:
    assert format_go_time(AFTERNOON.replace(microsecond=0), "05.999") == "09"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%Y-%m-%d %H:%M:%S", "2021-11-09 03:07:09"),
        ("%a %A %b %B %y %I %p %Z %z %L", "Tue Tuesday Nov November 21 03 AM UTC +0000 .500"),
        ("%% %q %", "% %q %"),
        ("2006 %Y", "2006 2021"),
        ("%%Y", "%Y"),
    ],
)
def test_strftime(fmt: str, expected: str) -> None:
    assert format_strftime(AFTERNOON, fmt) == expected

"""``required_version`` constraints (hashicorp/go-version syntax): ``>= 1.2.0, < 2``, ``~> 1.6``, ``!= 1.5.0``."""

from __future__ import annotations

import re

_CONSTRAINT = re.compile(
    r"\s*(=|!=|>=|<=|>|<|~>)?\s*v?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.\-]+))?(?:\+[0-9A-Za-z.\-]+)?\s*"
)


def _parse_version(text: str) -> tuple[tuple[int, ...], str] | None:
    m = re.fullmatch(r"v?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.\-]+))?(?:\+[0-9A-Za-z.\-]+)?", text.strip())
    if m is None:
        return None
    return tuple(int(p) for p in m.group(1).split(".")), m.group(2) or ""


def _cmp(a: tuple[tuple[int, ...], str], b: tuple[tuple[int, ...], str]) -> int:
    width = max(len(a[0]), len(b[0]), 3)
    na = a[0] + (0,) * (width - len(a[0]))
    nb = b[0] + (0,) * (width - len(b[0]))
    if na != nb:
        return -1 if na < nb else 1
    if a[1] == b[1]:
        return 0
    if not a[1] or not b[1]:  # a pre-release sorts before its release
        return 1 if not a[1] else -1
    return -1 if a[1] < b[1] else 1


def check_constraint(constraint: str, version: str) -> bool | None:
    """Whether ``version`` satisfies ``constraint``; None when the constraint is malformed."""
    have = _parse_version(version)
    assert have is not None
    for part in constraint.split(","):
        m = _CONSTRAINT.fullmatch(part)
        if m is None:
            return None
        op = m.group(1) or "="
        segments = tuple(int(p) for p in m.group(2).split("."))
        want = (segments, m.group(3) or "")
        c = _cmp(have, want)
        if op == "~>":
            upper = list(segments[:-1]) if len(segments) > 1 else [segments[0]]
            upper[-1] += 1
            ok = c >= 0 and _cmp(have, (tuple(upper), "")) < 0
        else:
            ok = {"=": c == 0, "!=": c != 0, ">": c > 0, ">=": c >= 0, "<": c < 0, "<=": c <= 0}[op]
        if not ok:
            return False
    return True

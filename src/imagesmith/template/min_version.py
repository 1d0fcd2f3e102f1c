"""``min_packer_version``: hashicorp/go-version parsing and comparison, as Packer 1.6.6's ``Core.Validate``."""

from __future__ import annotations

import re

from imagesmith import PACKER_COMPAT_VERSION
from imagesmith.errors import Location, Problem
from imagesmith.template.model import Template
from imagesmith.template.positions import loc_of

_VERSION = re.compile(
    r"v?([0-9]+(?:\.[0-9]+)*?)"
    r"(-([0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)))?"
    r"(\+([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?"
)


def parse_version(text: str) -> tuple[list[int], str, str]:
    """``(segments padded to 3, prerelease, metadata)``; raise ValueError as go-version does."""
    m = _VERSION.fullmatch(text)
    if not m:
        raise ValueError(f"Malformed version: {text}")
    segments = [int(s) for s in m.group(1).split(".")]
    segments += [0] * (3 - len(segments))
    return segments, m.group(3) or m.group(5) or "", m.group(7) or ""


def format_version(text: str) -> str:
    segments, pre, meta = parse_version(text)
    out = ".".join(str(s) for s in segments)
    return out + (f"-{pre}" if pre else "") + (f"+{meta}" if meta else "")


def version_less(a: str, b: str) -> bool:
    """go-version's ``LessThan`` (prerelease sorts before the release; metadata is ignored)."""
    sa, pa, _ = parse_version(a)
    sb, pb, _ = parse_version(b)
    width = max(len(sa), len(sb))
    sa, sb = sa + [0] * (width - len(sa)), sb + [0] * (width - len(sb))
    if sa != sb:
        return sa < sb
    if pa == pb:
        return False
    if not pa or not pb:
        return bool(pa)
    return _prerelease_key(pa) < _prerelease_key(pb)


def _prerelease_key(pre: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")]


def check_min_version(tpl: Template) -> Problem | None:
    """``This template requires Packer version X or higher`` when imagesmith's Packer version is older."""
    if not tpl.min_version:
        return None
    where = loc_of(tpl.raw, "min_packer_version") or Location(tpl.display)
    try:
        if version_less(PACKER_COMPAT_VERSION, tpl.min_version):
            return Problem(
                f"This template requires Packer version {format_version(tpl.min_version)} or higher; "
                f"using {PACKER_COMPAT_VERSION}",
                where,
                "min_packer_version",
            )
    except ValueError as exc:
        return Problem(f"min_version is invalid: {exc}", where, "min_packer_version")
    return None

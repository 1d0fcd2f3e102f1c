"""Name suggestions for misspelled keywords, functions and attributes, as Go HCL makes them."""

from __future__ import annotations

from collections.abc import Iterable


def levenshtein(a: str, b: str) -> int:
    """The edit distance between ``a`` and ``b``."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggest(given: str, candidates: Iterable[str]) -> str:
    """The first candidate within edit distance 2 of ``given``, or ""."""
    for cand in candidates:
        if levenshtein(given, cand) < 3:
            return cand
    return ""

"""Reading one entry-point group without importing :mod:`importlib.metadata`.

``importlib.metadata`` costs 60–150 ms to import on this project's machines (it pulls in
``email``, ``zipfile``, ``csv`` and ``inspect``) and then reads every distribution's metadata;
``imagesmith validate`` of a small template takes a few hundred milliseconds in all, so the
registry reads the groups it needs here instead: every ``*.dist-info`` / ``*.egg-info`` directory
in the directories of ``sys.path``, in ``sys.path`` order, the first distribution of a name
winning (``importlib.metadata``'s rule). Entries it cannot see (zipped eggs, custom finders) are
found by the registry's fallback to ``importlib.metadata`` before a name is called unknown.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple


class EntryPoint(NamedTuple):
    """``name = value`` in ``group`` of the distribution ``dist``; ``value`` is ``module:attr``."""

    name: str
    value: str
    dist: str


def read_group(group: str) -> list[EntryPoint]:
    """Every entry point of ``group`` declared by the distributions on ``sys.path``."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path:
        for dist, info_dir in _distributions(entry or "."):
            if dist in seen:
                continue
            seen.add(dist)
            try:
                with open(os.path.join(info_dir, "entry_points.txt"), encoding="utf-8") as file:
                    text = file.read()
            except OSError:
                continue
            found += [EntryPoint(name, value, dist) for name, value in parse_group(text, group)]
    return found


def _distributions(directory: str) -> list[tuple[str, str]]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:  # a zip file on sys.path, or a directory that went away
        return []
    out = []
    for name in names:
        if name.endswith((".dist-info", ".egg-info")):
            out.append((normalize(name.rsplit(".", 1)[0].split("-", 1)[0]), os.path.join(directory, name)))
    return out


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def parse_group(text: str, group: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs of the ``[group]`` section of an ``entry_points.txt``."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            out.append((name.strip(), value.strip()))
    return out

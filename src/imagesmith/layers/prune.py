"""What ``imagesmith cache`` does: list entries, prune them by age and size, clear them.

Entries are removed with the data their kind names (a docker layer's image tag) under the
cache-wide exclusive lock, so no running build loses a layer it is using.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from imagesmith.errors import UsageError
from imagesmith.layers.store import CorruptEntry, Entry, LayerStore

Remover = Callable[[str], Awaitable[None]]

_SIZE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Listed:
    """An entry as ``cache list`` shows it; ``entry`` None for a damaged one."""

    key: str
    entry: Entry | None
    last_used: float
    problem: str = ""


def parse_size(text: str) -> int:
    """``20G``, ``512M``, ``1.5T``, ``1000`` (bytes; binary units) → bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([BKMGT]?)(?:i?B)?\s*", text.upper())
    if not match:
        raise UsageError(f'invalid size "{text}": expected a number with K, M, G or T, like 20G')
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def parse_age(text: str) -> float:
    """``7d``, ``12h``, ``30m``, ``1w2d`` → seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise UsageError(f'invalid age "{text}": expected a duration like 7d, 12h or 30m')
    return sum(float(n) * _AGE_UNITS[u] for n, u in parts)


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def list_entries(store: LayerStore) -> list[Listed]:
    """Every entry, most recently used first; damaged ones carry their problem."""
    out: list[Listed] = []
    for key in store.entry_keys():
        try:
            entry = store.read(key)
        except CorruptEntry as exc:
            out.append(Listed(key, None, store.last_used(key), str(exc)))
            continue
        if entry is not None:
            out.append(Listed(key, entry, store.last_used(key)))
    return sorted(out, key=lambda item: -item.last_used)


def choose_victims(
    items: Iterable[Listed], *, max_size: int | None, older_than: float | None, now: float
) -> list[Listed]:
    """Damaged entries, those unused for ``older_than``, then least recently used ones over ``max_size``."""
    keep: list[Listed] = []
    doomed: list[Listed] = []
    for item in items:
        too_old = older_than is not None and now - item.last_used > older_than
        (doomed if item.entry is None or too_old else keep).append(item)
    if max_size is not None:
        total = sum(item.entry.size for item in keep if item.entry)
        for item in sorted(keep, key=lambda i: i.last_used):
            if total <= max_size:
                break
            total -= item.entry.size if item.entry else 0
            doomed.append(item)
    return doomed


async def remove_entries(store: LayerStore, victims: Iterable[Listed], removers: dict[str, Remover]) -> int:
    """Remove each entry and its data; returns the bytes freed."""
    freed = 0
    for item in victims:
        store.remove(item.key)
        if item.entry is not None:
            remover = removers.get(item.entry.kind)
            if remover is not None:
                await remover(item.entry.ref)
            freed += item.entry.size
    await asyncio.to_thread(store.remove_stale_tmp)
    return freed


def age_of(stamp: float) -> float:
    return max(time.time() - stamp, 0.0)

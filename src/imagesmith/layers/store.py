"""The layer cache on disk: one directory per layer key under ``IMAGESMITH_CACHE_DIR``.

Layout::

    <root>/lock                 flock: shared while a build uses the cache, exclusive for prune/clear
    <root>/layers/<key>/entry.json
    <root>/locks/<key>.lock     flock held while the layer ``key`` is written
    <root>/tmp/<random>/        an entry being written; renamed into layers/ when complete

An entry becomes visible only by the final ``rename`` of its complete directory, so an interrupted
write never becomes an entry. ``entry.json`` carries a checksum of its own fields: an entry that
does not parse or whose checksum, key or kind is wrong is reported and ignored. The layer's data
lives where its kind says (a docker image tag, files beside ``entry.json``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from imagesmith.layers.keys import hash_value

ENTRY_FILE = "entry.json"
STALE_TMP_SECONDS = 3600.0


def default_root() -> Path:
    """``$IMAGESMITH_CACHE_DIR``, else ``imagesmith_cache`` beside Packer's cache dir."""
    explicit = os.environ.get("IMAGESMITH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    packer = Path(os.environ.get("PACKER_CACHE_DIR") or "packer_cache")
    return packer.absolute().parent / "imagesmith_cache"


@dataclass(frozen=True)
class Entry:
    """One cached layer. ``ref`` is where its data is (an image id); ``size`` its own bytes."""

    key: str
    kind: str
    ref: str
    builder: str
    position: int
    provisioner: str
    created: float
    size: int = 0
    version: int = 1

    def checksum(self) -> str:
        return hash_value("entry", asdict(self))


class CorruptEntry(Exception):
    """An entry directory that cannot be trusted."""


class LayerStore:
    """Entries keyed by layer key; safe for concurrent builds and interrupted writes."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_root()).absolute()

    @property
    def layers(self) -> Path:
        return self.root / "layers"

    def ensure(self) -> None:
        for sub in ("layers", "locks", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def using(self, *, exclusive: bool = False, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the cache-wide lock: shared for builds, exclusive for prune/clear.

        ``on_wait`` is called once if the lock is held elsewhere, before waiting for it.
        """
        self.ensure()
        with open(self.root / "lock", "a+") as handle:
            mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[None]:
        """Hold the per-key write lock (two builds making the same layer write it once)."""
        self.ensure()
        with open(self.root / "locks" / f"{key}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self, key: str) -> Entry | None:
        """The entry for ``key``, None if absent; raise :class:`CorruptEntry` if it is damaged."""
        path = self.layers / key / ENTRY_FILE
        if not (self.layers / key).exists():
            return None
        try:
            raw = json.loads(path.read_text())
            checksum = raw.pop("checksum")
            entry = Entry(**raw)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise CorruptEntry(f"unreadable {ENTRY_FILE}: {exc}") from None
        if entry.key != key or entry.checksum() != checksum:
            raise CorruptEntry("checksum mismatch")
        return entry

    def read_ref(self, key: str) -> str:
        """A damaged entry's ``ref`` if it can still be read ("" if not), to remove its data."""
        try:
            ref = json.loads((self.layers / key / ENTRY_FILE).read_text()).get("ref", "")
        except (OSError, ValueError, AttributeError):
            return ""
        return ref if isinstance(ref, str) else ""

    def write(self, entry: Entry) -> bool:
        """Publish ``entry`` atomically; False if an entry for its key already exists."""
        self.ensure()
        tmp = self.root / "tmp" / f"{entry.key[:16]}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            data = {**asdict(entry), "checksum": entry.checksum()}
            with open(tmp / ENTRY_FILE, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                _sync(f)
            final = self.layers / entry.key
            if final.exists():
                return False
            os.rename(tmp, final)
            return True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def touch(self, key: str) -> None:
        """Record a use (prune removes the least recently used first)."""
        with contextlib.suppress(OSError):
            os.utime(self.layers / key)

    def remove(self, key: str) -> None:
        """Delete the entry's directory (its data elsewhere is the caller's)."""
        target = self.layers / key
        if not target.exists():
            return
        doomed = self.root / "tmp" / f"rm-{key[:16]}-{secrets.token_hex(4)}"
        with contextlib.suppress(FileNotFoundError):
            os.rename(target, doomed)  # invisible at once, deleted after
        shutil.rmtree(doomed, ignore_errors=True)

    def entry_keys(self) -> list[str]:
        if not self.layers.is_dir():
            return []
        return sorted(p.name for p in self.layers.iterdir() if p.is_dir())

    def last_used(self, key: str) -> float:
        try:
            return (self.layers / key).stat().st_mtime
        except OSError:
            return 0.0

    def remove_stale_tmp(self, older_than: float = STALE_TMP_SECONDS) -> None:
        """Leftovers of writes killed hard (SIGKILL); interrupted writes remove their own."""
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            return
        limit = time.time() - older_than
        for item in tmp.iterdir():
            with contextlib.suppress(OSError):
                if item.stat().st_mtime < limit:
                    shutil.rmtree(item, ignore_errors=True)


def _sync(f: IO[str]) -> None:
    f.flush()
    os.fsync(f.fileno())

"""StepDownload: fetch an ISO (or any file) into Packer's cache, verified, shared, resumable.

* Cache layout as Packer's: ``$PACKER_CACHE_DIR`` (default ``./packer_cache``), file name
  ``sha1(iso_checksum)`` (or ``sha1(url)`` with no checksum) plus ``.<extension>``;
  ``iso_target_path`` overrides it (a directory gets the URL's base name).
* Local paths and ``file://`` URLs are used in place, never copied.
* ``iso_urls`` are tried in order; the first that downloads and verifies wins.
* An HTTP transfer that breaks off resumes with a ``Range`` request; the partial file is
  ``<target>.part`` and is removed on Ctrl-C.
* A verified file gets a ``<target>.verified`` record (size, mtime, digest); while the file is
  unchanged, later runs trust it instead of hashing it again. A mismatch removes the file.
* ``<target>.lock`` makes parallel builds (and processes) share one download.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, TypeVar

from imagesmith.core.steps import Step, fail
from imagesmith.errors import BuildError
from imagesmith.steps.checksum import Checksum, ChecksumSpec, find_in_sums, hash_file, parse_checksum
from imagesmith.steps.fetch import fetch_text, http_download
from imagesmith.ui import Ui

NONE_WARNING = (
    "A checksum of 'none' was specified. Since ISO files are so big,\n"
    "a checksum is highly recommended."
)  # fmt: skip


def cache_dir() -> Path:
    """``$PACKER_CACHE_DIR``, or ``packer_cache`` in the current directory."""
    return Path(os.environ.get("PACKER_CACHE_DIR") or "packer_cache")


def local_path(url: str) -> Path | None:
    """The local file ``url`` names (a plain path or ``file://``), or None for a remote URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.parse.unquote(parts.netloc + parts.path))
    if parts.scheme in ("http", "https", "ftp"):
        return None
    return Path(url)


def cache_target(url: str, checksum_text: str, target_path: str, extension: str) -> Path:
    """Where Packer would store ``url`` (``StepDownload.download``'s naming rule)."""
    if target_path:
        if Path(target_path).suffix == "":
            base = Path(urllib.parse.urlsplit(url).path).name
            return Path(target_path) / base
        return Path(target_path)
    key = checksum_text if checksum_text and checksum_text.lower() != "none" else url
    name = hashlib.sha1(key.encode()).hexdigest()
    return cache_dir() / (f"{name}.{extension}" if extension else name)


class Downloader:
    """Downloads with Packer's semantics; see the module docstring."""

    def __init__(self, ui: Ui, what: str = "ISO") -> None:
        self.ui = ui
        self.what = what

    async def fetch(
        self, urls: Sequence[str], checksum_text: str, target_path: str = "", extension: str = "iso"
    ) -> Path:
        """The verified local path of the first of ``urls`` that works."""
        try:
            spec = parse_checksum(checksum_text)
        except ValueError as exc:
            raise fail(f"iso_checksum: {exc}") from exc
        if spec.is_none:
            self.ui.error(f"Warning: {NONE_WARNING}")
        self.ui.say(f"Retrieving {self.what}")
        errors: list[str] = []
        for url in urls:
            self.ui.say(f"Trying {url}")
            try:
                path = await self._fetch_one(url, spec, checksum_text, target_path, extension)
            except BuildError as exc:
                self.ui.error(f"Download failed {exc}")
                errors.append(f"{url}: {exc}")
                continue
            self.ui.say(f"{url} => {path}")
            return path
        raise fail(f"error downloading {self.what}: " + "; ".join(errors))

    async def _fetch_one(self, url: str, spec: ChecksumSpec, checksum_text: str, target: str, ext: str) -> Path:
        expected = await self._expected(spec, url)
        local = local_path(url)
        if local is not None:
            if not local.is_file():
                raise fail(f"{local}: no such file")
            record = cache_dir() / (hashlib.sha1(str(local.resolve()).encode()).hexdigest() + ".verified")
            await self._verify(local, expected, record, remove=False)
            return local
        path = cache_target(url, checksum_text, target, ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = path.with_name(path.name + ".verified")
        async with self._lock(path.with_name(path.name + ".lock")):
            if path.is_file():
                try:
                    await self._verify(path, expected, record, remove=True)
                    return path
                except BuildError as exc:
                    self.ui.say(f"Cached file is not valid ({exc}); downloading again")
            digest = await http_download(url, path, expected.algorithm if expected else None, self.ui)
            if expected is not None and digest != expected.hexdigest:
                path.unlink(missing_ok=True)
                raise fail(_mismatch(path, expected, digest))
            _write_record(path, record, expected)
        return path

    async def _expected(self, spec: ChecksumSpec, url: str) -> Checksum | None:
        if not spec.sums_source:
            return spec.checksum
        try:
            text = await fetch_text(spec.sums_source)
            return find_in_sums(text, Path(urllib.parse.urlsplit(url).path).name)
        except (OSError, ValueError) as exc:
            raise fail(f"checksum file {spec.sums_source}: {exc}") from exc

    async def _verify(self, path: Path, expected: Checksum | None, record: Path, *, remove: bool) -> None:
        if expected is None or _record_matches(path, record, expected):
            return
        self.ui.say(f"Verifying {expected.algorithm} checksum of {path}")
        digest = await asyncio.to_thread(hash_file, path, expected.algorithm)
        if digest != expected.hexdigest:
            record.unlink(missing_ok=True)
            if remove:
                path.unlink(missing_ok=True)
            raise fail(_mismatch(path, expected, digest, removed=remove))
        _write_record(path, record, expected)

    @asynccontextmanager
    async def _lock(self, lock_path: Path) -> AsyncIterator[None]:
        from filelock import FileLock, Timeout

        lock = FileLock(str(lock_path), thread_local=False)
        waited = False
        while True:
            try:
                await asyncio.to_thread(lock.acquire, timeout=0.2)
                break
            except Timeout:
                if not waited:
                    self.ui.say(f"Waiting for another build to finish downloading to {lock_path.with_suffix('')}")
                    waited = True
        try:
            yield
        finally:
            lock.release()


def _mismatch(path: Path, expected: Checksum, digest: str, removed: bool = True) -> str:
    tail = f"; removed {path}" if removed else ""
    return f"checksums did not match for {path}: expected {expected}, got {expected.algorithm}:{digest}{tail}"


def _record_matches(path: Path, record: Path, expected: Checksum) -> bool:
    try:
        data = json.loads(record.read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        data.get("size") == st.st_size
        and data.get("mtime_ns") == st.st_mtime_ns
        and data.get("algorithm") == expected.algorithm
        and data.get("digest") == expected.hexdigest
    )


def _write_record(path: Path, record: Path, expected: Checksum | None) -> None:
    if expected is None:
        return
    st = path.stat()
    data = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "algorithm": expected.algorithm}
    data["digest"] = expected.hexdigest
    tmp = record.with_name(record.name + ".tmp")
    try:  # only an optimisation: a read-only cache just means hashing again next time
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data))
        tmp.replace(record)
    except OSError:
        tmp.unlink(missing_ok=True)


class HasIsoPath(Protocol):
    iso_path: str


S = TypeVar("S", bound=HasIsoPath)


class DownloadIso(Step[S]):
    """StepDownload for ``iso_url``/``iso_urls``; sets ``state.iso_path``."""

    def __init__(self, ui: Ui, urls: Sequence[str], checksum: str, target_path: str = "", extension: str = "iso"):
        self.downloader = Downloader(ui)
        self.urls = list(urls)
        self.checksum = checksum
        self.target_path = target_path
        self.extension = extension

    @property
    def name(self) -> str:
        return "StepDownload"

    async def run(self, state: S) -> None:
        path = await self.downloader.fetch(self.urls, self.checksum, self.target_path, self.extension)
        state.iso_path = str(path)

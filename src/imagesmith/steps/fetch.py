"""HTTP transfers for :mod:`imagesmith.steps.download`: resumable file downloads, small text fetches.

urllib runs in worker threads one chunk at a time, so a cancelled task stops within a chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from imagesmith.core.steps import fail
from imagesmith.ui import Ui

CHUNK = 1 << 20
RETRIES = 5
TIMEOUT = 30.0
USER_AGENT = "imagesmith (Packer-compatible)"


async def fetch_text(source: str) -> str:
    """The text of a local path, ``file://`` URL or HTTP(S) URL (a checksum file)."""
    from imagesmith.steps.download import local_path

    local = local_path(source)
    if local is not None:
        return await asyncio.to_thread(local.read_text, "utf-8", "replace")

    def get() -> str:
        req = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            data: bytes = resp.read(16 << 20)
            return data.decode("utf-8", "replace")

    return await asyncio.to_thread(get)


def _open(url: str, offset: int) -> Any:
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT)


async def http_download(url: str, dest: Path, algorithm: str | None, ui: Ui) -> str:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming after breaks; return the digest.

    The digest (of ``algorithm``, empty without one) is computed while writing. Cancellation
    removes the partial file; other failures keep it so a later run resumes.
    """
    part = dest.with_name(dest.name + ".part")
    hasher = hashlib.new(algorithm) if algorithm else None
    offset = part.stat().st_size if part.exists() else 0
    if offset and hasher is not None:
        await asyncio.to_thread(_hash_into, part, hasher)
    failures = 0
    try:
        while True:
            try:
                offset, hasher = await _transfer(url, part, offset, hasher, algorithm, ui)
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and offset:  # our partial file is stale: start over
                    part.unlink()
                    offset, hasher = 0, hashlib.new(algorithm) if algorithm else None
                    continue
                raise fail(f"{url}: HTTP {exc.code} {exc.reason}") from exc
            except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
                failures += 1
                if failures > RETRIES:
                    raise fail(f"{url}: {exc} (gave up after {RETRIES} resumes; {part} kept)") from exc
                offset = part.stat().st_size if part.exists() else 0
                ui.message(f"Download of {url} interrupted at {offset} bytes ({exc}); resuming")
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))
    except asyncio.CancelledError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return hasher.hexdigest() if hasher is not None else ""


async def _transfer(url: str, part: Path, offset: int, hasher: Any, algorithm: str | None, ui: Ui) -> tuple[int, Any]:
    resp = await asyncio.to_thread(_open, url, offset)
    try:
        if offset and resp.status != 206:  # server ignored Range: start over
            offset = 0
            hasher = hashlib.new(algorithm) if algorithm else None
            part.unlink(missing_ok=True)
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with ui.progress(f"Downloading {url}", total) as bar, part.open("ab") as out:
            bar.advance(offset)
            while chunk := await asyncio.to_thread(resp.read1, CHUNK):
                out.write(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                offset += len(chunk)
                bar.advance(len(chunk))
        if total is not None and offset < total:
            raise http.client.IncompleteRead(b"", total - offset)
        return offset, hasher
    except asyncio.CancelledError:
        _abort(resp)  # unblock the worker thread's read so Ctrl-C doesn't wait for the server
        raise
    finally:
        with contextlib.suppress(OSError):
            resp.close()


def _abort(resp: Any) -> None:
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _hash_into(path: Path, hasher: Any) -> None:
    with path.open("rb") as fh:
        while chunk := fh.read(4 << 20):
            hasher.update(chunk)

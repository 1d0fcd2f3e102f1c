"""The tar streams the docker communicator uploads, and the owner Packer's ``chown -R`` would give them.

Packer 1.6.6 uploads with ``docker cp`` (the host's uid/gid and modes in the tar headers) and then, with
``fix_upload_owner`` (the default), runs ``chown -R <container user> <dst>`` as root. imagesmith writes
that owner into every tar header instead (:class:`Owner`), so the daemon's extraction gives the same
result with no ``chown`` process: ``chown -R user`` sets the user and keeps the group, ``user:group``
sets both; symlinks themselves are changed (``chown -R`` does not follow them, nor does extraction).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import tarfile
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from imagesmith.errors import BuildError

_CHUNK = 1 << 20
_QUEUE_DEPTH = 8


@dataclass(frozen=True)
class Owner:
    """The ids a ``chown`` would set: ``gid`` None keeps each entry's group."""

    uid: int
    gid: int | None = None

    def apply(self, info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid, info.uname = self.uid, ""
        if self.gid is not None:
            info.gid, info.gname = self.gid, ""
        return info


def split_owner(spec: str) -> tuple[str, str]:
    """``user[:group]`` as chown reads it (``user.group`` is not accepted by busybox; not supported)."""
    user, _, group = spec.partition(":")
    return user, group


def lookup_id(name: str, database: str) -> int | None:
    """The id of ``name`` in a passwd/group file's text, or of a plain number (chown takes both)."""
    for line in database.splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    return int(name) if name.isdigit() else None


def resolve_owner(spec: str, passwd: str, group: str) -> Owner:
    """The :class:`Owner` of ``chown -R <spec>`` in a container whose /etc/passwd and /etc/group are given."""
    user, grp = split_owner(spec)
    uid = lookup_id(user, passwd) if user else None
    if user and uid is None:
        raise BuildError(f"Failed to set owner of the uploaded file: chown: unknown user {user}")
    gid = lookup_id(grp, group) if grp else None
    if grp and gid is None:
        raise BuildError(f"Failed to set owner of the uploaded file: chown: unknown group {grp}")
    return Owner(0 if uid is None else uid, gid)


def known_owner(spec: str) -> Owner | None:
    """The owner of ``spec`` when it needs no look-up in the container (root or numeric ids)."""
    user, grp = split_owner(spec)
    ids = [part for part in (user, grp) if part]
    if not all(part.isdigit() or part == "root" for part in ids):
        return None
    return Owner(_number(user) if user else 0, _number(grp) if grp else None)


def _number(part: str) -> int:
    return 0 if part == "root" else int(part)


def bytes_info(name: str, size: int, mode: int | None, mtime: float) -> tarfile.TarInfo:
    """The header of an upload from memory: Packer stages it in a 0600 temp file first."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600 if mode is None else mode
    info.mtime = int(mtime)
    info.uid, info.gid = os.getuid(), os.getgid()
    return info


def file_info(path: Path, name: str, mode: int | None) -> tarfile.TarInfo:
    st = path.stat()  # follows symlinks, as Packer's os.Stat does for single files
    info = tarfile.TarInfo(name)
    info.size = st.st_size
    info.mode = (st.st_mode & 0o7777) if mode is None else mode
    info.mtime = int(st.st_mtime)
    info.uid, info.gid = st.st_uid, st.st_gid
    return info


async def tar_single(info: tarfile.TarInfo, payload: bytes | Path) -> AsyncIterator[bytes]:
    yield info.tobuf(tarfile.PAX_FORMAT)
    if isinstance(payload, bytes):
        yield payload
    else:
        with open(payload, "rb") as src:
            while chunk := await asyncio.to_thread(src.read, _CHUNK * 4):
                yield chunk
    pad = -info.size % tarfile.BLOCKSIZE
    yield b"\0" * (pad + 2 * tarfile.BLOCKSIZE)


class _QueueWriter:
    """The file object a tarfile writes into: 1 MiB chunks handed to the event loop with backpressure."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes | BaseException | None]) -> None:
        self.loop = loop
        self.queue = queue
        self.buf = bytearray()
        self.offset = 0
        self.stopped = threading.Event()

    def write(self, data: bytes) -> int:
        if self.stopped.is_set():
            raise OSError("upload stopped")
        self.offset += len(data)
        if not self.buf and len(data) >= _CHUNK:  # a big file's block as tarfile read it: no copy
            self.put(bytes(data))
            return len(data)
        self.buf += data
        if len(self.buf) >= _CHUNK:
            self.flush()
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        if self.buf:
            self.put(bytes(self.buf))
            self.buf.clear()

    def put(self, item: bytes | BaseException | None) -> None:
        future = asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop)
        while not self.stopped.is_set():
            with contextlib.suppress(TimeoutError):
                future.result(timeout=0.2)
                return
        future.cancel()


def _walk(root: Path, exclude: Sequence[str]) -> Iterator[tuple[Path, str]]:
    """(path, name relative to root) for everything under root, parents first, sorted."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if any(Path(rel).match(pattern) for pattern in exclude):
                if name in dirnames:
                    dirnames.remove(name)
                continue
            yield Path(dirpath, name), rel


@dataclass(frozen=True)
class FilePart:
    """One file of an upload: its header (name, size, mode, owner) and where its bytes come from."""

    info: tarfile.TarInfo
    payload: bytes | Path


@dataclass(frozen=True)
class TreePart:
    """A local directory under ``prefix`` (its contents alone when prefix is empty), entries owned by ``owner``."""

    root: Path
    prefix: str
    exclude: Sequence[str] = ()
    owner: Owner | None = None


def _write_part(tar: tarfile.TarFile, part: FilePart | TreePart) -> None:
    if isinstance(part, FilePart):
        payload = part.payload
        with io.BytesIO(payload) if isinstance(payload, bytes) else open(payload, "rb") as data:
            tar.addfile(part.info, data)
        return
    chown = part.owner.apply if part.owner else None
    if part.prefix:
        tar.add(part.root, arcname=part.prefix, recursive=False, filter=chown)
    for path, rel in _walk(part.root, part.exclude):
        tar.add(path, arcname=f"{part.prefix}/{rel}" if part.prefix else rel, recursive=False, filter=chown)


async def tar_tree(root: Path, prefix: str, exclude: Sequence[str], owner: Owner | None = None) -> AsyncIterator[bytes]:
    """A tar of ``root`` (entries under ``prefix``; its contents alone when prefix is empty), streamed,
    every entry owned by ``owner`` when given."""
    async for chunk in tar_parts([TreePart(root, prefix, exclude, owner)]):
        yield chunk


async def tar_parts(parts: Sequence[FilePart | TreePart]) -> AsyncIterator[bytes]:
    """One tar stream of ``parts``, in order, written by a thread and streamed with backpressure."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(_QUEUE_DEPTH)
    writer = _QueueWriter(loop, queue)

    def produce() -> None:
        try:
            with tarfile.open(fileobj=writer, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                tar.copybufsize = _CHUNK
                for part in parts:
                    _write_part(tar, part)
            writer.flush()
            writer.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            if not writer.stopped.is_set():
                writer.put(exc)

    thread = threading.Thread(target=produce, name="tar-upload", daemon=True)
    thread.start()
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise BuildError(f"Failed to read files to upload: {item}")
            yield item
    finally:
        writer.stopped.set()
        while not queue.empty():
            queue.get_nowait()
        await asyncio.to_thread(thread.join)

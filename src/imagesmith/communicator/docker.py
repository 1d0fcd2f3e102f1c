"""The docker communicator: ``docker exec`` for commands, ``docker cp`` tar streams for files.

Behaviour follows Packer 1.6.6's ``builder/docker/communicator.go``:

* commands run as ``docker exec -i [-u exec_user] <id> /bin/sh -c "(<command>)"``;
* a file upload is one tar stream into ``docker cp - <id>:<dir>``; a directory upload is ONE tar
  stream too (Packer runs ``docker cp <src> <id>:<dst>``, with the same result): symlinks stay
  symlinks, modes and times are kept, and the rules of ``docker cp`` apply (a missing ``dst`` is
  created holding the directory's contents; an existing one receives the directory itself, or its
  contents when ``src`` ends in ``/``);
* ``fix_upload_owner``: uploads end up owned by the container's user (``root`` when it has none).
  Packer runs ``chown -R <user> <dst>`` as root after each upload; for a single file imagesmith
  writes the owner into the tar header instead when the user is numeric or ``root`` (same result,
  one process fewer), and runs Packer's chown otherwise;
* downloads read the tar stream of ``docker cp <id>:<src> -``; directories are supported (Packer's
  docker communicator refuses them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import shlex
import tarfile
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from imagesmith.core.plugin import Communicator, LineCallback
from imagesmith.errors import BuildError, ToolError
from imagesmith.run import run

DOCKER = "docker"
_CHUNK = 1 << 20
_QUEUE_DEPTH = 8


def make_exec_args(container: str, command: str, *, user: str = "", tty: bool = False) -> list[str]:
    """``docker exec`` of ``command`` through ``/bin/sh -c "(command)"``, as Packer's communicator does."""
    args = [DOCKER, "exec", "-i"]
    if user:
        args += ["-u", user]
    if tty:
        args.append("-t")
    return [*args, container, "/bin/sh", "-c", f"({command})"]


def make_chown_args(container: str, owner: str, path: str) -> list[str]:
    """Packer's ``fix_upload_owner``: ``chown -R`` the uploaded path as root."""
    return [DOCKER, "exec", "--user", "root", container, "/bin/sh", "-c", f"chown -R {owner} {path}"]


class DockerCommunicator(Communicator):
    """Talks to one running container."""

    def __init__(
        self,
        container: str,
        *,
        exec_user: str = "",
        container_user: str = "",
        fix_upload_owner: bool = True,
        tty: bool = False,
    ) -> None:
        self.container = container
        self.exec_user = exec_user
        self.container_user = container_user
        self.fix_upload_owner = fix_upload_owner
        self.tty = tty

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        argv = make_exec_args(self.container, command, user=self.exec_user, tty=self.tty)
        done = await run(argv, stdin=stdin, check=False, on_stdout=stdout, on_stderr=stderr, what="docker exec")
        return done.returncode

    async def execute_script(
        self,
        path: str,
        script: bytes,
        command: str,
        *,
        keep_unless: Sequence[int] | None,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
    ) -> int | None:
        """Upload ``script`` to ``path``, ``chmod 0755`` it, run ``command``, and remove ``path`` when
        the exit status is in ``keep_unless`` (None: keep it): one ``docker exec`` instead of four.

        Returns None when this shortcut would not leave the file exactly as Packer's separate
        upload would (another exec user, or no owner fixing): the caller then does it step by step.
        """
        if not self.fix_upload_owner or (self.exec_user and self.exec_user != self.container_user):
            return None
        quoted = shlex.quote(path)
        snippet = f"cat > {quoted} || exit $?; chmod 0755 {quoted}; ({command})\n__rc=$?\n"
        if keep_unless is not None:
            codes = "|".join(str(c) for c in keep_unless) or "x"
            snippet += f"case $__rc in {codes}) rm -f {quoted};; esac\n"
        snippet += "exit $__rc"
        argv = [DOCKER, "exec", "-i", *(["-u", self.exec_user] if self.exec_user else []), self.container]
        argv += ["/bin/sh", "-c", snippet]
        done = await run(argv, stdin=script, check=False, on_stdout=stdout, on_stderr=stderr, what="docker exec")
        return done.returncode

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        owner_ids = self._header_owner()
        if isinstance(src, bytes):
            info = tarfile.TarInfo(posixpath.basename(dst))
            info.size = len(src)
            info.mode = 0o600 if mode is None else mode  # Packer stages a reader in a 0600 temp file
            info.mtime = int(time.time())
            info.uid, info.gid = os.getuid(), os.getgid()
        else:
            info = _file_info(src, posixpath.basename(dst), mode)
        if owner_ids is not None:
            info.uid, info.uname = owner_ids, ""
        payload: bytes | Path = src
        chunks = _tar_single(info, payload)
        await self._copy_in(posixpath.dirname(dst) or "/", chunks, dst)
        if self.fix_upload_owner and owner_ids is None:
            await self._chown(dst)

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        contents = str(src).endswith("/")
        root = Path(src)
        if not root.is_dir():
            raise BuildError(f"{src} is not a directory")
        if await self._is_dir(dst):
            target, prefix = dst, ("" if contents else root.name)
        else:
            target, prefix = posixpath.dirname(dst.rstrip("/")) or "/", posixpath.basename(dst.rstrip("/"))
        chunks = _tar_tree(root, prefix, exclude)
        await self._copy_in(target, chunks, dst)
        if self.fix_upload_owner:
            await self._chown(dst)

    async def download(self, src: str, dst: Path) -> None:
        def extract(archive: Path) -> None:
            with tarfile.open(archive) as tar:
                member = tar.next()
                if member is None:
                    raise BuildError(f"Failed to read header from tar stream for {src}")
                data = tar.extractfile(member)
                if data is None:
                    raise BuildError(f"{src} is not a regular file in the container")
                with data, open(dst, "wb") as out:
                    while chunk := data.read(_CHUNK):
                        out.write(chunk)

        await self._copy_out(src, dst.parent, extract)

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        """Copy the contents of the container directory ``src`` into ``dst`` (created if missing)."""

        def extract(archive: Path) -> None:
            dst.mkdir(parents=True, exist_ok=True)
            with tarfile.open(archive) as tar:
                members = []
                for member in tar.getmembers():
                    _, _, rest = member.name.partition("/")
                    if not rest or any(Path(rest).match(pattern) for pattern in exclude):
                        continue
                    member.name = rest
                    members.append(member)
                tar.extractall(dst, members=members, filter="tar")

        await self._copy_out(src.rstrip("/") or "/", dst.parent if dst.parent.is_dir() else Path.cwd(), extract)

    async def _copy_in(self, target: str, chunks: AsyncIterator[bytes], dst: str) -> None:
        argv = [DOCKER, "cp", "-", f"{self.container}:{target}"]
        try:
            await run(argv, stdin=chunks, what=f"upload to {dst!r}")
        except ToolError as exc:
            raise BuildError(f"Failed to upload to '{dst}' in container: {exc.stderr.strip()}") from exc

    async def _copy_out(self, src: str, workdir: Path, extract: Callable[[Path], None]) -> None:
        with tempfile.TemporaryDirectory(prefix=".imagesmith-download-", dir=workdir) as tmp:
            archive = Path(tmp) / "stream.tar"
            with open(archive, "wb") as out:
                argv = [DOCKER, "cp", f"{self.container}:{src}", "-"]
                try:
                    await run(argv, stdout_sink=lambda chunk: _write(out, chunk), what=f"download of {src!r}")
                except ToolError as exc:
                    raise BuildError(f"Error downloading file: {exc.stderr.strip()}") from exc
            await asyncio.to_thread(extract, archive)

    async def _is_dir(self, path: str) -> bool:
        argv = [DOCKER, "exec", self.container, "/bin/sh", "-c", f"test -d {shlex.quote(path)}"]
        return (await run(argv, check=False, what="docker exec")).returncode == 0

    async def _chown(self, path: str) -> None:
        owner = self.container_user or "root"
        try:
            await run(make_chown_args(self.container, owner, path), what="chown")
        except ToolError as exc:
            raise BuildError(f"Failed to set owner of the uploaded file: {exc.stderr.strip()}") from exc

    def _header_owner(self) -> int | None:
        """The uid Packer's ``chown -R <user>`` would set, when known without asking the container."""
        if not self.fix_upload_owner:
            return os.getuid()
        user = self.container_user or "root"
        if user == "root":
            return 0
        return int(user) if user.isdigit() else None


def _write(out: BinaryIO, chunk: bytes) -> None:
    out.write(chunk)


def _file_info(path: Path, name: str, mode: int | None) -> tarfile.TarInfo:
    st = path.stat()  # follows symlinks, as Packer's os.Stat does for single files
    info = tarfile.TarInfo(name)
    info.size = st.st_size
    info.mode = (st.st_mode & 0o7777) if mode is None else mode
    info.mtime = int(st.st_mtime)
    info.uid, info.gid = st.st_uid, st.st_gid
    return info


async def _tar_single(info: tarfile.TarInfo, payload: bytes | Path) -> AsyncIterator[bytes]:
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
        self.buf += data
        self.offset += len(data)
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


async def _tar_tree(root: Path, prefix: str, exclude: Sequence[str]) -> AsyncIterator[bytes]:
    """A tar of ``root`` (entries under ``prefix``; its contents alone when prefix is empty), streamed."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(_QUEUE_DEPTH)
    writer = _QueueWriter(loop, queue)

    def produce() -> None:
        try:
            with tarfile.open(fileobj=writer, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                tar.copybufsize = _CHUNK
                if prefix:
                    tar.add(root, arcname=prefix, recursive=False)
                for path, rel in _walk(root, exclude):
                    tar.add(path, arcname=f"{prefix}/{rel}" if prefix else rel, recursive=False)
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

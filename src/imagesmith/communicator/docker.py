"""The docker communicator: commands and files over the Docker Engine API (no docker CLI process).

Behaviour follows Packer 1.6.6's ``builder/docker/communicator.go``, which runs the CLI:

* a command is an exec of ``/bin/sh -c "(<command>)"`` with stdin attached, as ``docker exec -i
  [-u exec_user] [-t]`` (:func:`make_exec_request`); output reaches the UI line by line, the exit
  status is the exec's own;
* a file upload is one tar stream extracted by the daemon (``PUT /containers/{id}/archive``, what
  ``docker cp -`` sends); a directory upload is one tar stream too, laid out by ``docker cp``'s rules
  (a missing ``dst`` is created holding the directory's contents; an existing one receives the
  directory itself, or its contents when ``src`` ends in ``/``), asked of the daemon with one stat
  request (``HEAD .../archive``) instead of a ``test -d`` exec;
* ``fix_upload_owner``: Packer runs ``chown -R <container user> <dst>`` as root after each upload.
  imagesmith writes that owner into the tar headers (see :mod:`.docker_tar`); only when a directory
  is uploaded into a directory that already exists does it still run Packer's ``chown -R`` (as an
  exec), because that command also changes what was there before;
* downloads read the tar stream of ``GET .../archive``; directories are supported (Packer's docker
  communicator refuses them);
* while ``defer_uploads`` is set (the provision hook sets it for ``file`` provisioners), uploads into
  the same directory wait and go out as one tar stream (:mod:`.docker_batch`) at the next
  :meth:`flush`, which every other operation does first.
"""

from __future__ import annotations

import asyncio
import base64
import json
import posixpath
import shlex
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from imagesmith.communicator.docker_batch import UploadBatch
from imagesmith.communicator.docker_exec import make_exec_request, run_exec
from imagesmith.communicator.docker_tar import (
    FilePart,
    Owner,
    TreePart,
    bytes_info,
    file_info,
    known_owner,
    resolve_owner,
    split_owner,
)
from imagesmith.core.plugin import Communicator, LineCallback, RemoteProcess
from imagesmith.docker_engine import EngineError, Request, call, connect, copy_body, head, send
from imagesmith.errors import BuildError

_MODE_DIR = 1 << 31  # Go's os.ModeDir, as the daemon reports a path's mode
_MODE_SYMLINK = 1 << 27  # Go's os.ModeSymlink


def make_chown_command(owner: str, path: str) -> list[str]:
    """Packer's ``fix_upload_owner`` command, run as root."""
    return ["/bin/sh", "-c", f"chown -R {owner} {path}"]


def make_put_archive_request(container: str, directory: str) -> Request:
    """What ``docker cp - <id>:<directory>`` sends: extract the body's tar stream into ``directory``."""
    params = {"path": directory, "noOverwriteDirNonDir": "true"}
    return Request("PUT", f"containers/{container}/archive", params)


def make_stat_request(container: str, path: str) -> Request:
    return Request("HEAD", f"containers/{container}/archive", {"path": path})


def make_get_archive_request(container: str, path: str) -> Request:
    return Request("GET", f"containers/{container}/archive", {"path": path})


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
        self._pending: UploadBatch | None = None

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        await self.flush()
        request = make_exec_request(self.container, ["/bin/sh", "-c", f"({command})"], self.exec_user, self.tty)
        return await run_exec(request, stdin=stdin, stdout=stdout, stderr=stderr, tty=self.tty)

    async def start_process(self, command: str) -> RemoteProcess:
        from imagesmith.communicator.docker_stream import start_exec_process

        await self.flush()
        return await start_exec_process(self.container, command, self.exec_user)

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
        the exit status is in ``keep_unless`` (None: keep it): one exec instead of four.

        Returns None when this shortcut would not leave the file exactly as Packer's separate
        upload would (another exec user, or no owner fixing): the caller then does it step by step.
        """
        if not self.fix_upload_owner or (self.exec_user and self.exec_user != self.container_user):
            return None
        await self.flush()
        quoted = shlex.quote(path)
        snippet = f"cat > {quoted} || exit $?; chmod 0755 {quoted}; ({command})\n__rc=$?\n"
        if keep_unless is not None:
            codes = "|".join(str(c) for c in keep_unless) or "x"
            snippet += f"case $__rc in {codes}) rm -f {quoted};; esac\n"
        snippet += "exit $__rc"
        request = make_exec_request(self.container, ["/bin/sh", "-c", snippet], self.exec_user, False)
        return await run_exec(request, stdin=script, stdout=stdout, stderr=stderr, tty=False)

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        name = posixpath.basename(dst)
        info = bytes_info(name, len(src), mode, time.time()) if isinstance(src, bytes) else file_info(src, name, mode)
        if self.fix_upload_owner:
            (await self._owner()).apply(info)
        await self._send(posixpath.dirname(dst) or "/", FilePart(info, src), dst)

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        contents = str(src).endswith("/")
        root = Path(src)
        if not root.is_dir():
            raise BuildError(f"{src} is not a directory")
        existed = await self._is_dir(dst)
        if existed:
            target, prefix = dst, ("" if contents else root.name)
        else:
            target, prefix = posixpath.dirname(dst.rstrip("/")) or "/", posixpath.basename(dst.rstrip("/"))
        owner = await self._owner() if self.fix_upload_owner else None
        await self._send(target, TreePart(root, prefix, exclude, owner), dst)
        if owner is not None and existed:
            await self.flush()
            await self._chown(dst)  # Packer's chown -R also changes what dst held before

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
                    while chunk := data.read(1 << 20):
                        out.write(chunk)

        await self._get(src, dst.parent, extract)

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

        await self._get(src.rstrip("/") or "/", dst.parent if dst.parent.is_dir() else Path.cwd(), extract)

    async def flush(self) -> None:
        """Send the uploads held back by ``defer_uploads`` (one request)."""
        batch, self._pending = self._pending, None
        if batch is not None:
            await self._put(batch.target, batch.stream(), batch.dsts[0])

    async def close(self) -> None:
        self._pending = None  # the build ended without the hook's flush: a failure, nothing to send

    async def _send(self, target: str, part: FilePart | TreePart, dst: str) -> None:
        if self._pending is not None and self._pending.target != target:
            await self.flush()
        if self._pending is None:
            self._pending = UploadBatch(target)
        self._pending.add(part, dst)
        if not self.defer_uploads:
            await self.flush()

    async def _flush_if_touches(self, path: str) -> None:
        """Send the held uploads first when they may change what a look-up of ``path`` sees."""
        if self._pending is not None and self._pending.touches(path):
            await self.flush()

    async def _put(self, target: str, chunks: AsyncIterator[bytes], dst: str) -> None:
        try:
            async with (
                connect() as docker,
                call(f"upload to {dst!r}"),
                send(docker, make_put_archive_request(self.container, target), data=chunks),
            ):
                pass
        except EngineError as exc:
            raise BuildError(f"Failed to upload to '{dst}' in container: {exc.daemon_message}") from None

    async def _get(self, src: str, workdir: Path, extract: Callable[[Path], None]) -> None:
        await self.flush()
        with tempfile.TemporaryDirectory(prefix=".imagesmith-download-", dir=workdir) as tmp:
            archive = Path(tmp) / "stream.tar"
            with open(archive, "wb") as out:
                try:
                    async with (
                        connect() as docker,
                        call(f"download of {src!r}"),
                        send(docker, make_get_archive_request(self.container, src)) as response,
                    ):
                        await copy_body(response, out.write)
                except EngineError as exc:
                    raise BuildError(f"Error downloading file: {exc.daemon_message}") from None
            await asyncio.to_thread(extract, archive)

    async def _stat(self, path: str) -> dict[str, Any] | None:
        """The daemon's stat of ``path`` in the container (name, size, mode, ...), None if missing."""
        await self._flush_if_touches(path)
        async with connect() as docker, call(f"stat of {path!r}"):
            status, headers = await head(docker, make_stat_request(self.container, path))
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"stat of {path!r}", status, f"the daemon answered {status}")
        stat: dict[str, Any] = json.loads(base64.b64decode(headers.get("X-Docker-Container-Path-Stat", "") or b"e30="))
        return stat

    async def _is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory, following one symlink as ``docker cp`` does."""
        stat = await self._stat(path)
        if stat is not None and int(stat.get("mode", 0)) & _MODE_SYMLINK and stat.get("linkTarget"):
            stat = await self._stat(str(stat["linkTarget"]))
        return stat is not None and bool(int(stat.get("mode", 0)) & _MODE_DIR)

    async def _owner(self) -> Owner:
        """The owner Packer's ``chown -R <container user>`` gives (names looked up in the container)."""
        spec = self.container_user or "root"
        owner = known_owner(spec)
        if owner is not None:
            return owner
        user, group = split_owner(spec)
        passwd = await self._read_text("/etc/passwd") if user and not user.isdigit() else ""
        groups = await self._read_text("/etc/group") if group and not group.isdigit() else ""
        return resolve_owner(spec, passwd, groups)

    async def _read_text(self, path: str) -> str:
        """A small file of the container, read through the archive endpoint ("" if it is missing)."""
        import io

        await self._flush_if_touches(path)
        data = bytearray()
        try:
            async with (
                connect() as docker,
                call(f"read of {path!r}"),
                send(docker, make_get_archive_request(self.container, path)) as response,
            ):
                await copy_body(response, data.extend)
        except EngineError as exc:
            if exc.status == 404:
                return ""
            raise
        with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
            member = tar.next()
            body = tar.extractfile(member) if member else None
            return body.read().decode("utf-8", "replace") if body else ""

    async def _chown(self, path: str) -> None:
        await self.flush()
        owner = self.container_user or "root"
        request = make_exec_request(self.container, make_chown_command(owner, path), "root", False)
        errors: list[str] = []
        status = await run_exec(request, stdout=errors.append, stderr=errors.append)
        if status != 0:
            raise BuildError(f"Failed to set owner of the uploaded file: exit status {status}, {' '.join(errors)}")

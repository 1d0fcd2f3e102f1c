"""The SSH communicator (asyncssh): commands, and files over SCP (default) or SFTP.

Semantics follow Packer 1.6.6's ``communicator/ssh``:

* ``execute`` runs the command through the login shell, with a PTY when ``ssh_pty`` (stderr is then
  merged into stdout); it returns the exit status, or :data:`CMD_DISCONNECT` when the connection
  dropped (a reboot, ``shutdown``) before one arrived; when no session can be opened on the
  connection it reconnects once, as Packer does, and raises :class:`BuildError` if that fails;
* ``upload`` writes one file with ``scp -t <dir>`` (or SFTP), streamed, with its mode;
* ``upload_dir`` follows rsync's rule: ``src`` ending in ``/`` copies its contents into ``dst``,
  otherwise ``dst/<basename>`` is created; ``dst`` is created if missing;
* ``download`` copies one file; ``download_dir`` copies the contents of ``src`` into ``dst``.

Connecting (polling, bastion, proxy, timeouts) lives in :mod:`imagesmith.communicator.ssh_connect`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import posixpath
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagesmith.communicator.ssh_connect import SshSettings, connect
from imagesmith.core.plugin import CMD_DISCONNECT, Communicator, LineCallback, RemoteProcess
from imagesmith.errors import BuildError
from imagesmith.log import logger
from imagesmith.ui import Ui

if TYPE_CHECKING:
    import asyncssh

_CHUNK = 256 * 1024
RECONNECT_TIMEOUT = 15.0  # seconds one reconnection may take before a command counts as not started


class SshCommunicator(Communicator):
    """One SSH connection to the machine being built."""

    def __init__(self, conn: asyncssh.SSHClientConnection, settings: SshSettings) -> None:
        self.conn = conn
        self.settings = settings

    @classmethod
    async def open(cls, settings: SshSettings, ui: Ui | None = None) -> SshCommunicator:
        """Wait for the server (see :func:`~imagesmith.communicator.ssh_connect.connect`), log in,
        and open ``ssh_local_tunnels`` / ``ssh_remote_tunnels``."""
        import asyncssh

        conn = await connect(settings, ui)
        try:
            for spec in settings.local_tunnels:
                bind, port, host, hostport = _tunnel(spec)
                await conn.forward_local_port(bind, port, host, hostport)
            for spec in settings.remote_tunnels:
                bind, port, host, hostport = _tunnel(spec)
                await conn.forward_remote_port(bind, port, host, hostport)
        except (asyncssh.Error, OSError, ValueError) as exc:
            conn.close()
            raise BuildError(f"Error setting up SSH tunnel: {exc}") from exc
        return cls(conn, settings)

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        import asyncssh

        logger.debug("ssh: executing %s", command)
        options: dict[str, Any] = {"encoding": None}
        if self.settings.pty:
            options |= {"term_type": "xterm", "term_size": (80, 40)}
        try:
            proc = await self.conn.create_process(command, **options)
        except (asyncssh.Error, OSError) as exc:
            # Packer opens a new connection when a session cannot be opened (the machine restarted).
            logger.debug("ssh: could not start %r: %s; reconnecting", command, exc)
            await self.reconnect()
            try:
                proc = await self.conn.create_process(command, **options)
            except (asyncssh.Error, OSError) as again:
                raise BuildError(f"could not start {command!r} over SSH: {again}") from again
        try:
            if stdin:
                proc.stdin.write(stdin)
            proc.stdin.write_eof()
            await asyncio.gather(_pump_lines(proc.stdout, stdout), _pump_lines(proc.stderr, stderr))
            result = await proc.wait()
        except (asyncssh.Error, OSError) as exc:
            logger.debug("ssh: %r lost its connection: %s", command, exc)
            return CMD_DISCONNECT
        finally:
            proc.close()
        if result.exit_status is None or result.exit_status < 0:
            return CMD_DISCONNECT
        return int(result.exit_status)

    async def reconnect(self) -> None:
        """Replace a dropped connection with a new one (one attempt of at most :data:`RECONNECT_TIMEOUT`).

        Raises :class:`BuildError` when the server does not answer: the caller cannot start anything.
        Tunnels are not reopened.
        """
        self.conn.close()
        settings = replace(self.settings, timeout=min(self.settings.timeout, RECONNECT_TIMEOUT))
        self.conn = await connect(settings)

    async def start_process(self, command: str) -> RemoteProcess:
        from imagesmith.communicator.ssh_stream import start_ssh_process

        return await start_ssh_process(self.conn, command)

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        if self.conn.is_closed():
            await self.reconnect()
        size = len(src) if isinstance(src, bytes) else os.stat(src).st_size
        if mode is None:
            mode = 0o644 if isinstance(src, bytes) else os.stat(src).st_mode & 0o7777
        try:
            if self.settings.file_transfer == "sftp":
                await self._sftp_upload(dst, src, mode)
            else:
                await self._scp_upload(dst, src, size, mode)
        except (OSError, _ScpError) as exc:
            raise BuildError(f"Error uploading to {dst}: {exc}") from exc
        except Exception as exc:
            raise _wrap(exc, f"Error uploading to {dst}") from exc

    async def _sftp_upload(self, dst: str, src: Path | bytes, mode: int) -> None:
        async with self.conn.start_sftp_client() as sftp, sftp.open(dst, "wb") as out:
            if isinstance(src, bytes):
                await out.write(src)
            else:
                with src.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        await out.write(chunk)
            await out.chmod(mode)

    async def _scp_upload(self, dst: str, src: Path | bytes, size: int, mode: int) -> None:
        directory, name = posixpath.split(dst)
        proc = await self.conn.create_process(f"scp -t {shlex.quote(directory or '.')}", encoding=None)
        try:
            await _scp_ack(proc)
            proc.stdin.write(f"C{mode:04o} {size} {name}\n".encode())
            await _scp_ack(proc)
            if isinstance(src, bytes):
                proc.stdin.write(src)
            else:
                with src.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        proc.stdin.write(chunk)
                        await proc.stdin.drain()
            proc.stdin.write(b"\0")
            await _scp_ack(proc)
            proc.stdin.write_eof()
            result = await proc.wait()
            if result.exit_status != 0:
                err = result.stderr or b""
                message = (err.decode("utf-8", "replace") if isinstance(err, bytes) else err).strip()
                raise _ScpError(message or f"scp exited with status {result.exit_status}")
        finally:
            proc.close()

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        contents = str(src).endswith("/")
        root = Path(src)
        sources = sorted(root.iterdir()) if contents else [root]
        sources = [p for p in sources if not _excluded(p.name, exclude)]
        await self._run_checked(f"mkdir -p {shlex.quote(dst)}", f"Error creating {dst}")
        if not sources:
            return
        try:
            await self._copy([str(p) for p in sources], (self.conn, dst))
        except Exception as exc:
            raise _wrap(exc, f"Error uploading {src} to {dst}") from exc

    async def download(self, src: str, dst: Path) -> None:
        try:
            await self._copy([(self.conn, src)], str(dst), recurse=False)
        except Exception as exc:
            raise _wrap(exc, f"Error downloading {src}") from exc

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        dst.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".imagesmith-download-", dir=dst.parent))
        try:
            await self._copy([(self.conn, src.rstrip("/") or "/")], str(staging / "d"))
            dst.mkdir(parents=True, exist_ok=True)
            for entry in sorted((staging / "d").iterdir()):
                if not _excluded(entry.name, exclude):
                    target = dst / entry.name
                    if target.is_dir() and entry.is_dir():
                        shutil.copytree(entry, target, symlinks=True, dirs_exist_ok=True)
                    else:
                        os.replace(entry, target)
        except BuildError:
            raise
        except Exception as exc:
            raise _wrap(exc, f"Error downloading {src}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    async def _copy(self, sources: list[Any], target: Any, recurse: bool = True) -> None:
        import asyncssh

        if self.settings.file_transfer == "sftp":
            async with self.conn.start_sftp_client() as sftp:
                if isinstance(target, tuple):
                    await sftp.put([str(s) for s in sources], target[1], recurse=recurse, preserve=True)
                else:
                    await sftp.get([s[1] for s in sources], target, recurse=recurse, preserve=True)
            return
        await asyncssh.scp(sources, target, recurse=recurse, preserve=True)

    async def _run_checked(self, command: str, what: str) -> None:
        errors: list[str] = []
        status = await self.execute(command, stderr=errors.append)
        if status != 0:
            raise BuildError(f"{what}: {'; '.join(errors) or f'exit status {status}'}")

    async def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(Exception):
            await self.conn.wait_closed()


class _ScpError(Exception):
    pass


async def _scp_ack(proc: Any) -> None:
    code = await proc.stdout.readexactly(1)
    if code == b"\0":
        return
    message = (await proc.stdout.readline()).decode("utf-8", "replace").strip()
    raise _ScpError(message or f"scp protocol error (code {code!r})")


async def _pump_lines(stream: Any, callback: LineCallback | None) -> None:
    async for raw in stream:
        if raw and callback is not None:
            callback(raw.decode("utf-8", "replace").rstrip("\r\n"))


def _tunnel(spec: str) -> tuple[str, int, str, int]:
    """``[bind:]port:host:hostport`` (bind defaults to 127.0.0.1 for local tunnels' safety)."""
    parts = spec.split(":")
    if len(parts) == 3:
        parts.insert(0, "127.0.0.1")
    if len(parts) != 4:
        raise ValueError(f"bad tunnel {spec!r}: expected [bind:]port:host:hostport")
    return parts[0], int(parts[1]), parts[2], int(parts[3])


def _excluded(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _wrap(exc: Exception, what: str) -> BuildError:
    import asyncssh

    if isinstance(exc, asyncssh.SFTPError | asyncssh.Error | OSError):
        return BuildError(f"{what}: {exc}")
    if isinstance(exc, BuildError):
        return exc
    raise exc

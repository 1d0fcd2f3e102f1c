"""A streamed command over the SSH communicator's connection: raw stdin, stdout and stderr."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from imagesmith.core.plugin import CMD_DISCONNECT, STDERR, STDOUT, RemoteProcess
from imagesmith.errors import BuildError
from imagesmith.log import logger

if TYPE_CHECKING:
    import asyncssh

_CHUNK = 64 * 1024


class SshProcess(RemoteProcess):
    """One command on an SSH connection; stdout and stderr merged into one ordered queue of chunks."""

    def __init__(self, proc: asyncssh.SSHClientProcess[bytes]) -> None:
        self._proc = proc
        self._queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self._pumps = [
            asyncio.ensure_future(self._pump(STDOUT, proc.stdout)),
            asyncio.ensure_future(self._pump(STDERR, proc.stderr)),
        ]
        self._open = 2

    async def _pump(self, which: int, reader: asyncssh.SSHReader[bytes]) -> None:
        import asyncssh

        try:
            while data := await reader.read(_CHUNK):
                await self._queue.put((which, data))
        except (asyncssh.Error, OSError) as exc:
            logger.debug("ssh: stream %d ended: %s", which, exc)
        finally:
            await self._queue.put(None)

    async def write(self, data: bytes) -> None:
        self._proc.stdin.write(data)
        await self._proc.stdin.drain()

    async def write_eof(self) -> None:
        self._proc.stdin.write_eof()

    async def read(self) -> tuple[int, bytes] | None:
        while self._open:
            item = await self._queue.get()
            if item is not None:
                return item
            self._open -= 1
        return None

    async def wait(self) -> int:
        import asyncssh

        try:
            result = await self._proc.wait()
        except (asyncssh.Error, OSError):
            return CMD_DISCONNECT
        if result.exit_status is None or result.exit_status < 0:
            return CMD_DISCONNECT
        return int(result.exit_status)

    async def close(self) -> None:
        for pump in self._pumps:
            pump.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self._pumps, return_exceptions=True)
        self._proc.close()


async def start_ssh_process(conn: asyncssh.SSHClientConnection, command: str) -> SshProcess:
    """Start ``command`` on ``conn`` with binary streams."""
    import asyncssh

    logger.debug("ssh: starting %s", command)
    try:
        proc = await conn.create_process(command, encoding=None)
    except (asyncssh.Error, OSError) as exc:
        raise BuildError(f"could not start {command!r} over SSH: {exc}") from exc
    return SshProcess(proc)

"""A minimal QMP (QEMU Machine Protocol) client over a Unix socket.

QMP is line-delimited JSON: a greeting, ``qmp_capabilities``, then one ``{"execute": ...}`` per
command, answered by ``{"return": ...}`` or ``{"error": ...}``; asynchronous ``{"event": ...}``
lines may come in between and are skipped (and kept in :attr:`QmpClient.events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from imagesmith.errors import BuildError


class QmpError(BuildError):
    """QEMU refused a QMP command or the socket broke."""


class QmpClient:
    """One QMP session. Use :meth:`connect`, then :meth:`execute`, then :meth:`close`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()
        self.events: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, path: str | Path, timeout: float = 10.0, greeting_timeout: float = 60.0) -> QmpClient:
        """Connect to QEMU's ``-qmp unix:PATH,server,nowait`` socket, retrying until ``timeout``.

        Once connected, QEMU's greeting may take a while on a loaded host: it gets
        ``greeting_timeout`` of its own, so a slow QEMU is not mistaken for a missing socket.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(path), limit=1 << 22)
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                if loop.time() > deadline:
                    raise QmpError(f"could not connect to QEMU's QMP socket {path}: {exc}") from exc
                await asyncio.sleep(0.05)
        client = cls(reader, writer)
        try:
            async with asyncio.timeout(greeting_timeout):
                greeting = await client._read()
                if "QMP" not in greeting:
                    raise QmpError(f"unexpected QMP greeting: {greeting}")
                await client.execute("qmp_capabilities")
        except TimeoutError as exc:
            await client.close()
            raise QmpError(f"QEMU's QMP socket {path} did not answer within {greeting_timeout:g} s") from exc
        except BaseException:
            await client.close()
            raise
        return client

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run ``command``; return its ``return`` value or raise :class:`QmpError`."""
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        async with self._lock:
            self._writer.write(json.dumps(message).encode() + b"\n")
            await self._writer.drain()
            while True:
                reply = await self._read()
                if "event" in reply:
                    self.events.append(reply)
                    continue
                if "error" in reply:
                    err = reply["error"]
                    raise QmpError(f"QMP {command} failed: {err.get('desc', err)}")
                return reply.get("return")

    async def _read(self) -> dict[str, Any]:
        line = await self._reader.readline()
        if not line:
            raise QmpError("QEMU closed the QMP connection")
        value = json.loads(line)
        if not isinstance(value, dict):
            raise QmpError(f"unexpected QMP message: {line!r}")
        return value

    async def close(self) -> None:
        """Close the socket (QEMU keeps running)."""
        self._writer.close()
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            await self._writer.wait_closed()

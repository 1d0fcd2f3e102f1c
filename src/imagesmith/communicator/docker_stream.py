"""A streamed exec in a container: stdin, stdout and stderr relayed as raw bytes while it runs.

The same exec as :meth:`DockerCommunicator.execute` (``/bin/sh -c "(command)"``, no tty), kept open
for a relay such as the ansible provisioner's SSH proxy: one Engine API connection per process,
the exec's hijacked stream read and written concurrently.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from imagesmith.communicator.docker_exec import exit_code, make_exec_request
from imagesmith.core.plugin import CMD_DISCONNECT, STDERR, STDOUT, RemoteProcess
from imagesmith.docker_engine import EngineError, call, connect, send
from imagesmith.errors import BuildError
from imagesmith.log import logger

if TYPE_CHECKING:
    from aiodocker.stream import Stream


class DockerProcess(RemoteProcess):
    """One running exec (see :func:`start_exec_process`)."""

    def __init__(self, stack: contextlib.AsyncExitStack, execution: Any, stream: Stream) -> None:
        self._stack = stack
        self._execution = execution
        self._stream = stream

    async def write(self, data: bytes) -> None:
        await self._stream.write_in(data)

    async def write_eof(self) -> None:
        response: Any = self._stream._resp  # aiodocker has no half-close; its version is pinned
        transport = response.connection.transport if response and response.connection else None
        if transport is not None and transport.can_write_eof():
            transport.write_eof()

    async def read(self) -> tuple[int, bytes] | None:
        message = await self._stream.read_out()
        if message is None:
            return None
        return (STDERR if message.stream == 2 else STDOUT), bytes(message.data)

    async def wait(self) -> int:
        try:
            return await exit_code(self._execution)
        except (BuildError, OSError) as exc:
            logger.debug("docker exec: no exit status: %s", exc)
            return CMD_DISCONNECT

    async def close(self) -> None:
        await self._stack.aclose()


async def start_exec_process(container: str, command: str, user: str) -> DockerProcess:
    """Create and start the exec of ``command`` in ``container``; return it with its stream open."""
    argv = ["/bin/sh", "-c", f"({command})"]
    logger.debug("+ docker exec argv: %s", json.dumps(argv))
    request = make_exec_request(container, argv, user, False)
    stack = contextlib.AsyncExitStack()
    try:
        docker = await stack.enter_async_context(connect())
        async with call("docker exec"), send(docker, request) as response:
            exec_id = (await response.json())["Id"]
        execution = docker.containers.exec(exec_id)
        execution._tty = False  # known from the request: saves an inspect round trip
        started: Any = execution.start()  # an async context manager, though not typed as one
        stream = await stack.enter_async_context(started)
    except BaseException as exc:
        await stack.aclose()
        if isinstance(exc, EngineError | OSError):
            raise BuildError(f"docker exec of {command!r} failed: {exc}") from exc
        raise
    return DockerProcess(stack, execution, stream)

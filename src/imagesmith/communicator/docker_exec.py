"""One exec in a container over the Engine API: stdin in, stdout/stderr out line by line, exit status."""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from imagesmith.core.plugin import LineCallback
from imagesmith.docker_engine import Request, call, connect, send
from imagesmith.errors import BuildError
from imagesmith.log import logger

if TYPE_CHECKING:
    from aiodocker.stream import Stream

_STDERR = 2
_EXIT_POLL = 0.01
_EXIT_WAIT = 10.0


def make_exec_request(container: str, argv: Sequence[str], user: str = "", tty: bool = False) -> Request:
    """What ``docker exec -i [-u user] [-t] <container> argv...`` sends to create the exec."""
    body = {
        "User": user,
        "Privileged": False,
        "Tty": tty,
        "AttachStdin": True,
        "AttachStderr": True,
        "AttachStdout": True,
        "Detach": False,
        "DetachKeys": "",
        "Env": None,
        "WorkingDir": "",
        "Cmd": list(argv),
    }
    return Request("POST", f"containers/{container}/exec", body=body)


class LineSplitter:
    """Turns chunks of one output stream into lines for a callback (a last line without newline too)."""

    def __init__(self, callback: LineCallback | None) -> None:
        self.callback = callback
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""

    def feed(self, data: bytes) -> None:
        if self.callback is None:
            return
        *lines, self.pending = (self.pending + self.decoder.decode(data)).split("\n")
        for line in lines:
            self.callback(line.rstrip("\r"))

    def close(self) -> None:
        rest = self.pending + self.decoder.decode(b"", final=True)
        if rest and self.callback is not None:
            self.callback(rest.rstrip("\r"))
        self.pending = ""


async def run_exec(
    request: Request,
    *,
    stdin: bytes | None = None,
    stdout: LineCallback | None = None,
    stderr: LineCallback | None = None,
    tty: bool = False,
) -> int:
    """Create and start the exec of ``request``, feed it ``stdin`` (then end of input), return its exit status."""
    out, err = LineSplitter(stdout), LineSplitter(stderr)
    # the exact command, as the CLI's would be on its command line (the debug log masks secrets)
    logger.debug("+ docker exec argv: %s", json.dumps((request.body or {}).get("Cmd", [])))
    async with connect() as docker, call("docker exec"):
        async with send(docker, request) as response:
            exec_id = (await response.json())["Id"]
        execution = docker.containers.exec(exec_id)
        execution._tty = tty  # known from the request: saves an inspect round trip
        async with execution.start() as stream:
            await _feed(stream, stdin or b"", close=not tty)
            while (message := await stream.read_out()) is not None:
                (err if message.stream == _STDERR else out).feed(message.data)
        out.close()
        err.close()
        return await exit_code(execution)


async def _feed(stream: Stream, data: bytes, *, close: bool) -> None:
    """Write ``data``, then close our sending side: the command sees end of input, as with ``docker exec -i``
    fed a file. Not with a tty (``pty``): the daemon then stops relaying the output, so stdin stays open
    as in Packer's ``docker exec -i -t``."""
    if data:
        await stream.write_in(data)
    if not close:
        return
    response: Any = stream._resp  # aiodocker has no half-close; its version is pinned
    transport = response.connection.transport if response and response.connection else None
    if transport is not None and transport.can_write_eof():
        transport.write_eof()


async def exit_code(execution: Any) -> int:
    """The exec's exit status; the daemon may report it a moment after the output ends."""
    deadline = asyncio.get_running_loop().time() + _EXIT_WAIT
    while True:
        info = await execution.inspect()
        if not info.get("Running") and info.get("ExitCode") is not None:
            return int(info["ExitCode"])
        if asyncio.get_running_loop().time() > deadline:
            raise BuildError(f"docker exec: no exit status {_EXIT_WAIT:.0f} s after the command's output ended")
        await asyncio.sleep(_EXIT_POLL)

"""The one way imagesmith runs a process.

Every external command (docker, qemu, qemu-img, shell-local scripts, ...) goes through
:func:`run` or :func:`start`. Each logs the exact command line (``+ docker run ...``) with
secrets masked, captures stderr, and on failure raises :class:`~imagesmith.errors.ToolError`
carrying the command and the tail of stderr. A cancelled run terminates its process (then
kills it) before the cancellation propagates, so nothing outlives the step that started it.

Each process starts in a session of its own, whose id this module remembers: at the end of a run
:func:`stop_all` stops what is still running and :func:`reap_sessions` kills and waits for whatever
is left in those sessions (a script's background job), so imagesmith never exits before every
process it started has been waited for. As a command, imagesmith is also a child subreaper
(:func:`become_subreaper`): a killed script's children are re-parented to it, not to init.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import shlex
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from imagesmith.errors import ToolError
from imagesmith.log import logger
from imagesmith.secrets import scrub

LineCallback = Callable[[str], None]
ChunkSink = Callable[[bytes], Awaitable[None] | None]
_READ_SIZE = 1 << 20
_TERM_GRACE = 5.0
_PR_SET_CHILD_SUBREAPER = 36

#: Processes started here and maybe still running, per run (see :func:`track_processes`; runs in one
#: process, e.g. two API builds in two threads, must not stop each other's); and every session id
#: they were started in.
_all_live: set[asyncio.subprocess.Process] = set()
_live_var: contextvars.ContextVar[set[asyncio.subprocess.Process]] = contextvars.ContextVar("imagesmith_live")
_sessions: set[int] = set()


def track_processes() -> contextvars.Token[set[asyncio.subprocess.Process]]:
    """Start a run's own set of live processes (for :func:`stop_all`) in the current context; tasks
    created from here on share it. Undo with ``_live_var.reset(token)`` via :func:`untrack_processes`."""
    return _live_var.set(set())


def untrack_processes(token: contextvars.Token[set[asyncio.subprocess.Process]]) -> None:
    _live_var.reset(token)


def _live() -> set[asyncio.subprocess.Process]:
    return _live_var.get(_all_live)


def quote_argv(argv: Sequence[str]) -> str:
    """A copy-pastable, secret-masked rendering of a command line."""
    return scrub(shlex.join(str(a) for a in argv))


@dataclass(frozen=True)
class Completed:
    """A finished process. ``stdout`` is empty when it was streamed to a callback or sink."""

    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


async def run(
    argv: Sequence[str],
    *,
    stdin: bytes | AsyncIterator[bytes] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    check: bool = True,
    what: str = "",
    on_stdout: LineCallback | None = None,
    on_stderr: LineCallback | None = None,
    stdout_sink: ChunkSink | None = None,
    timeout: float | None = None,
) -> Completed:
    """Run ``argv`` to completion.

    ``stdin`` may be bytes or an async iterator of chunks (streamed, e.g. a tar of a directory).
    ``on_stdout``/``on_stderr`` receive decoded lines as they arrive; ``stdout_sink`` receives raw
    chunks instead of keeping them in memory. With ``check`` a non-zero exit raises ToolError.
    ``env`` entries are added to (not replacing) the current environment.
    """
    argv = [str(a) for a in argv]
    logger.debug("+ %s", quote_argv(argv))
    full_env = None if env is None else {**os.environ, **env}
    proc = await _spawn(
        argv,
        what,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        env=full_env,
        cwd=cwd,
    )

    out_chunks: list[bytes] = []
    err_lines: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None

    async def feed() -> None:
        assert proc.stdin is not None
        try:
            if isinstance(stdin, bytes | bytearray):
                proc.stdin.write(stdin)
                await proc.stdin.drain()
            elif stdin is not None:
                async for chunk in stdin:
                    proc.stdin.write(chunk)
                    await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the process stopped reading; its exit status tells why
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    async def pump_out() -> None:
        assert proc.stdout is not None
        if on_stdout is not None:
            async for raw in proc.stdout:
                on_stdout(raw.decode("utf-8", "replace").rstrip("\r\n"))
            return
        while chunk := await proc.stdout.read(_READ_SIZE):
            if stdout_sink is None:
                out_chunks.append(chunk)
            else:
                result = stdout_sink(chunk)
                if result is not None:
                    await result

    async def pump_err() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            err_lines.append(line)
            if on_stderr is not None:
                on_stderr(line)

    tasks = [pump_out(), pump_err()] + ([feed()] if stdin is not None else [])
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*tasks)
            returncode = await proc.wait()
    except BaseException:
        await stop_process(proc)
        raise
    stderr = "\n".join(err_lines)
    logger.debug("  exit %d%s", returncode, f"; stderr: {stderr[-2000:]}" if stderr else "")
    if check and returncode != 0:
        raise ToolError(argv, returncode, stderr, what)
    return Completed(argv, returncode, b"".join(out_chunks), stderr)


async def _discard(stream: asyncio.StreamReader) -> None:
    with contextlib.suppress(Exception):  # another reader may own the stream; then it drains it
        while await stream.read(_READ_SIZE):
            pass


async def stop_process(proc: asyncio.subprocess.Process, grace: float = _TERM_GRACE) -> None:
    """Terminate ``proc`` and its process group (SIGTERM, then SIGKILL after ``grace`` seconds); reap it.

    Every process here starts in its own session, so the group also holds what it started (a shell
    script's ``sleep``), which would otherwise outlive it and keep its pipes open.
    """
    if proc.returncode is not None:
        return
    # wait() returns only once the pipes are at EOF: keep reading what nobody reads any more, or a
    # child blocked on a full stdout pipe (a cancelled `docker export`) would never let it return.
    drains = [asyncio.ensure_future(_discard(s)) for s in (proc.stdout, proc.stderr) if s is not None]
    _signal_group(proc, signal.SIGTERM)
    try:
        await asyncio.shield(asyncio.wait_for(proc.wait(), grace))
    except (TimeoutError, asyncio.CancelledError):
        _signal_group(proc, signal.SIGKILL)
        await asyncio.shield(proc.wait())
    finally:
        for drain in drains:
            drain.cancel()
    _signal_group(proc, signal.SIGKILL)  # stragglers of the group, if any


def _signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


async def start(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    what: str = "",
    stdin_pipe: bool = False,
) -> asyncio.subprocess.Process:
    """Start a long-running process (a VM, a server). The caller must :func:`stop_process` it.

    stdout is discarded and stderr is piped so a failure can be reported with its tail.
    """
    argv = [str(a) for a in argv]
    logger.debug("+ %s &", quote_argv(argv))
    return await _spawn(
        argv,
        what,
        stdin=asyncio.subprocess.PIPE if stdin_pipe else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        env=None if env is None else {**os.environ, **env},
        cwd=cwd,
    )


async def _spawn(
    argv: list[str], what: str, *, stdin: int, stdout: int, env: Mapping[str, str] | None, cwd: str | None
) -> asyncio.subprocess.Process:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=stdin,
            stdout=stdout,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the child ourselves
        )
    except OSError as exc:
        raise ToolError(argv, None, str(exc), what) from exc
    live = _live()
    live.difference_update([p for p in live if p.returncode is not None])
    live.add(proc)
    _sessions.add(proc.pid)
    return proc


async def stop_all(grace: float = 1.0) -> None:
    """Stop and reap every process started here that still runs (after an abandoned cleanup)."""
    live = _live()
    running = [p for p in live if p.returncode is None]
    live.clear()
    if running:
        logger.debug("stopping %d process(es) left running", len(running))
        await asyncio.gather(*(stop_process(p, grace) for p in running), return_exceptions=True)


def become_subreaper() -> None:
    """Make orphaned descendants (a killed script's children) this process's children (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _session_members() -> list[tuple[int, int, str]]:
    """(pid, ppid, state) of every process in one of the sessions started here."""
    found: list[tuple[int, int, str]] = []
    for entry in os.listdir("/proc") if _sessions else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) in _sessions:  # fields: state ppid pgrp session ...
            found.append((int(entry), int(fields[1]), fields[0]))
    return found


def reap_sessions(timeout: float = 5.0) -> None:
    """Kill whatever is left in the sessions started here and wait for those that are our children.

    Synchronous, for the very end of a command, once the event loop is gone. Processes re-parented
    elsewhere are killed but can only be waited for by their new parent.
    """
    me = os.getpid()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = _session_members()
        if not any(ppid == me or state != "Z" for _pid, ppid, state in members):
            break
        for pid, ppid, state in members:
            if state != "Z":
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if ppid == me:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)
    _sessions.clear()


def run_sync(argv: Sequence[str], **kwargs: object) -> Completed:
    """Synchronous :func:`run` for code outside the event loop (CLI checks, fixtures)."""
    return asyncio.run(run(argv, **kwargs))  # type: ignore[arg-type]

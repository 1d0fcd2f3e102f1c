"""Output. Steps never print: they talk to a :class:`Ui`.

Implementations follow Packer's conventions (``packer/ui.go``):

* :class:`ConsoleUi` writes plain lines, optionally coloured and timestamped;
* :class:`MachineReadableUi` writes ``<unix-ts>,<target>,<type>,<data...>`` lines;
* :class:`TargetedUi` prefixes a build's lines (``==> name: `` for say/error, four spaces and
  ``name: `` for message) and sets the machine-readable target.

Every line passes through the secret filter, machine-readable output included.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol, TextIO

from imagesmith.log import logger
from imagesmith.secrets import scrub

RESET = "\033[0m"
BOLD = "\033[1m"
RED = "\033[31m"
BUILD_COLORS = ["\033[32m", "\033[36m", "\033[35m", "\033[33m", "\033[34m"]  # Packer's cycle


class Progress(Protocol):
    def advance(self, amount: int) -> None: ...


class _NoProgress:
    def advance(self, amount: int) -> None:
        pass


class Ui:
    """Base UI. Subclasses override :meth:`_write` and :meth:`machine`."""

    def say(self, message: str) -> None:
        self._write("say", message)

    def message(self, message: str) -> None:
        self._write("message", message)

    def error(self, message: str) -> None:
        self._write("error", message)

    def machine(self, kind: str, *args: str, target: str = "") -> None:
        """A machine-readable event; ignored by human-oriented UIs."""

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Progress]:
        """A progress bar for long work, shown only on a terminal in human mode."""
        yield _NoProgress()

    async def ask(self, question: str) -> str:
        raise RuntimeError("this UI can't ask")

    def _write(self, kind: str, message: str) -> None:
        raise NotImplementedError

    def emit(self, kind: str, text: str, color: str = "") -> None:
        """Write an already-prefixed line of ``kind`` (say/message/error), coloured where supported."""
        self._write(kind, text)


def rfc3339_now() -> str:
    """The local time as Go's ``time.RFC3339`` prints it (``2006-01-02T15:04:05Z`` in UTC)."""
    text = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ConsoleUi(Ui):
    """Human output on a stream (stdout; errors to stderr as Packer does)."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        color: bool = True,
        timestamps: bool = False,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = color and self.out.isatty()
        self.timestamps = timestamps
        self._lock = threading.Lock()

    def _write(self, kind: str, message: str, color: str = "") -> None:
        text = scrub(message)
        logger.info("ui %s: %s", kind, text)
        if self.timestamps:
            text = f"{rfc3339_now()}: {text}"
        stream = self.err if kind == "error" else self.out
        if self.color and color:  # only a build's lines are coloured (Packer's ColoredUi)
            if kind == "error":
                color = RED
            if color:
                bold = BOLD if kind in ("say", "error") else ""
                text = f"{bold}{color}{text}{RESET}"
        with self._lock:
            stream.write(text + "\n")
            stream.flush()

    def emit(self, kind: str, text: str, color: str = "") -> None:
        self._write(kind, text, color)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Progress]:
        if not self.out.isatty():
            yield _NoProgress()
            return
        from rich.progress import (  # imported here: rich costs start-up time
            BarColumn,
            DownloadColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        with RichProgress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task(scrub(description), total=total)

            class _Bar:
                def advance(self, amount: int) -> None:
                    bar.advance(task, amount)

            yield _Bar()

    async def ask(self, question: str) -> str:
        """Print ``question`` and wait for a line on stdin; EOFError when stdin is closed.

        The read happens in a daemon thread, so a cancelled question (Ctrl-C during a -debug
        pause) never keeps the process alive waiting for Enter.
        """
        self._write("say", question)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()

        def deliver(line: str) -> None:
            if not answer.done():
                answer.set_result(line)

        def read() -> None:
            line = sys.stdin.readline()
            with contextlib.suppress(RuntimeError):  # the loop may be gone after a cancellation
                loop.call_soon_threadsafe(deliver, line)

        threading.Thread(target=read, name="ui-ask", daemon=True).start()
        line = await answer
        if not line:
            raise EOFError("no answer: standard input is closed")
        return line.strip()


def escape_machine_field(value: str) -> str:
    """Escape one machine-readable field as Packer does."""
    return value.replace(",", "%!(PACKER_COMMA)").replace("\r", "\\r").replace("\n", "\\n")


class MachineReadableUi(Ui):
    """``<unix-ts>,<target>,<type>,<data...>`` lines, secrets masked (Packer 1.6.6 leaks them)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._lock = threading.Lock()

    def _write(self, kind: str, message: str) -> None:
        self.machine("ui", kind, message)

    def machine(self, kind: str, *args: str, target: str = "") -> None:
        fields = [escape_machine_field(scrub(str(a))) for a in args]
        line = ",".join([str(int(time.time())), target, kind, *fields])
        logger.info("machine: %s", line)
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    async def ask(self, question: str) -> str:
        raise RuntimeError("machine-readable UI can't ask")


class TargetedUi(Ui):
    """A build's view of a UI: prefixes lines with the build name, colours them per build.

    Prefixing follows Packer's ``TargetedUI.prefixLines``: every line of the message gets
    ``==> name: `` (say/error) or four spaces and ``name: `` (message), and trailing white
    space of the whole result is trimmed (so an empty line prints as ``    name:``).
    """

    def __init__(self, base: Ui, target: str, color: str = "") -> None:
        self.base = base
        self.target = target
        self.color = color

    def _prefixed(self, prefix: str, message: str) -> str:
        return "\n".join(f"{prefix}{self.target}: {line}" for line in message.split("\n")).rstrip()

    def say(self, message: str) -> None:
        self._emit("say", self._prefixed("==> ", message))

    def message(self, message: str) -> None:
        self._emit("message", self._prefixed("    ", message))

    def error(self, message: str) -> None:
        self._emit("error", self._prefixed("==> ", message))

    def _emit(self, kind: str, text: str) -> None:
        self.base.emit(kind, text, self.color)

    def emit(self, kind: str, text: str, color: str = "") -> None:
        self.base.emit(kind, text, color or self.color)

    def machine(self, kind: str, *args: str, target: str = "") -> None:
        self.base.machine(kind, *args, target=target or self.target)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Progress]:
        with self.base.progress(f"{self.target}: {description}", total) as bar:
            yield bar

    async def ask(self, question: str) -> str:
        return await self.base.ask(self._prefixed("==> ", question))


class ColoredUi(Ui):
    """Packer's ``ColoredUi`` (plus ``TimestampedUi``): a build's un-prefixed lines in its colour.

    Used for the lines a build writes without its name (``Build 'x' finished after ...``) and as
    the base of the build's :class:`TargetedUi` s. ``timestamps`` prefixes each message with an
    RFC 3339 time, as ``-timestamp-ui`` does, in every output mode.
    """

    def __init__(self, base: Ui, color: str = "", *, timestamps: bool = False) -> None:
        self.base = base
        self.color = color
        self.timestamps = timestamps

    def _write(self, kind: str, message: str) -> None:
        self.emit(kind, message)

    def emit(self, kind: str, text: str, color: str = "") -> None:
        if self.timestamps:
            text = f"{rfc3339_now()}: {text}"
        self.base.emit(kind, text, color or self.color)

    def machine(self, kind: str, *args: str, target: str = "") -> None:
        self.base.machine(kind, *args, target=target)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Progress]:
        with self.base.progress(description, total) as bar:
            yield bar

    async def ask(self, question: str) -> str:
        return await self.base.ask(question)

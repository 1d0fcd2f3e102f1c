"""The few exception types imagesmith raises, and its exit codes.

Only :mod:`imagesmith.cli` (and, for each build, :mod:`imagesmith.core.build`) turns these into
messages and exit codes; anything else escaping to the top is a bug, reported as "internal error"
with its traceback written to a file (see :func:`imagesmith.log.save_traceback`).

Code that touches files wraps the operation in :func:`file_errors`, so an ``OSError`` becomes a
:class:`FileError` naming the operation, the config field and the path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # a build or check failed (Packer's only non-zero code)
EXIT_USAGE = 1  # Packer uses 1 for bad flags too; kept for compatibility
EXIT_INTERRUPTED = 1  # Packer: "Cleanly cancelled builds after being interrupted." exits 1


@dataclass(frozen=True)
class Location:
    """Where in which file something is. ``line``/``column`` are 1-based; 0 means unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One located error found while checking a template or a config block."""

    message: str
    location: Location | None = None
    path: str = ""  # e.g. "builders[0].disk_size"

    def __str__(self) -> str:
        head = f"{self.location}: " if self.location else ""
        where = f"{self.path}: " if self.path else ""
        return f"{head}{where}{self.message}"


class ImagesmithError(Exception):
    """Base of every error meant for the user. ``hint`` is an optional next step."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ImagesmithError):
    """Bad command line: unknown flag, missing argument."""


class TemplateError(ImagesmithError):
    """The template (or a var file) is invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem] | Problem | str, hint: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.render(), hint)

    def render(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} errors occurred:"]
        lines += [f"  * {p}" for p in self.problems]
        return "\n".join(lines)


class RenderError(ImagesmithError):
    """A template expression (``{{ ... }}``) failed to parse or execute."""


class ToolError(ImagesmithError):
    """An external command failed. Carries the command line and the tail of its stderr."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr: str, what: str = "") -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        from imagesmith.run import quote_argv  # late import: run imports errors

        tail = "\n".join(stderr.rstrip().splitlines()[-20:])
        status = "could not be started" if returncode is None else f"exited with status {returncode}"
        msg = f"{what or 'command'} failed: {quote_argv(self.argv)} {status}"
        if tail:
            msg += "\n" + "\n".join("  " + line for line in tail.splitlines())
        super().__init__(msg)


class BuildError(ImagesmithError):
    """A build step, provisioner or post-processor failed."""


class Cancelled(ImagesmithError):
    """The user interrupted (Ctrl-C / SIGTERM)."""


class FileError(ImagesmithError):
    """A file operation failed: ``cannot write export_path /x/y.tar: No such file or directory``."""


def describe_os_error(exc: OSError) -> str:
    """``strerror`` (``No such file or directory``), or the exception's text when it has none."""
    return exc.strerror or str(exc) or type(exc).__name__


@contextlib.contextmanager
def file_errors(operation: str, path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block into a :class:`FileError`.

    ``operation`` says what was being done and to which config field (``"write export_path"``);
    the message is ``cannot <operation> <path>: <reason>``.
    """
    try:
        yield
    except OSError as exc:
        raise FileError(f"cannot {operation} {os.fspath(path)}: {describe_os_error(exc)}") from exc


def describe_failure(exc: BaseException, context: str) -> str:
    """The one-line message for any exception that ends a build or a command.

    An :class:`ImagesmithError` is its message; a stray ``OSError`` names its path and reason
    (code that knows the operation wraps it in :func:`file_errors` instead); anything else is a
    bug: ``internal error (KeyError: 'x'); traceback written to <file>``.
    """
    from imagesmith.log import logger, save_traceback  # late import: log must stay importable alone

    if isinstance(exc, ImagesmithError):
        return str(exc)
    if isinstance(exc, OSError):
        logger.debug("unwrapped OSError in %s", context, exc_info=exc)
        paths = [os.fsdecode(p) for p in (exc.filename, exc.filename2) if p is not None]
        where = f"cannot access {' -> '.join(paths)}: " if paths else "I/O error: "
        return where + describe_os_error(exc)
    path = save_traceback(exc, context)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"internal error ({detail}); traceback written to {path}"

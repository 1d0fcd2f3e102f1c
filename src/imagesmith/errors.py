"""The few exception types imagesmith raises, and its exit codes.

Only :mod:`imagesmith.cli` turns these into messages and exit codes; anything else escaping
to the top is a bug and is shown with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

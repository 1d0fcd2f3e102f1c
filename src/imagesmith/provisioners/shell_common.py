"""Pieces of Packer's shell provisioner shared with other script runners.

Environment-variable flattening with Packer's quoting (``packer-plugin-sdk/shell``) through the
engine's Go ``fmt.Sprintf``, CRLF → LF conversion (``UnixReader``), the
``retry.Config{StartTimeout}`` loop, and the exit-code check with Packer's wording.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from imagesmith.core.generated import http_env
from imagesmith.core.plugin import LineCallback
from imagesmith.errors import BuildError
from imagesmith.log import logger
from imagesmith.template.decode import option
from imagesmith.template.engine.printf import sprintf
from imagesmith.template.values import Duration

T = TypeVar("T")
RETRY_DELAY = 2.0  # seconds between tries, as Packer's retry.Config


@runtime_checkable
class ScriptRunner(Protocol):
    """A communicator that can upload a script and run it in one round trip (the docker one)."""

    async def execute_script(
        self,
        path: str,
        script: bytes,
        command: str,
        *,
        keep_unless: Sequence[int] | None,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
    ) -> int | None: ...


def check_env_vars(env_vars: Iterable[str]) -> list[str]:
    """Packer's check of ``environment_vars`` entries (``KEY=value``, non-empty key)."""
    return [
        f"Environment variable not in format 'key=value': {kv}"
        for kv in env_vars
        if "=" not in kv or kv.split("=", 1)[0] == ""
    ]


def make_env_vars(
    env_vars: Sequence[str], build_name: str, builder_type: str, data: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The variables a script gets, sorted by key; user values have ``'`` escaped as ``'"'"'``."""
    merged = {"PACKER_BUILD_NAME": build_name, "PACKER_BUILDER_TYPE": builder_type}
    merged |= http_env(data)
    for kv in env_vars:
        key, _, value = kv.partition("=")
        merged[key] = value.replace("'", "'\"'\"'")
    return sorted(merged.items())


def flatten_env_vars(pairs: Sequence[tuple[str, str]], env_var_format: str) -> str:
    """``{{.Vars}}``: each pair through ``env_var_format`` with Go's ``fmt.Sprintf``."""
    return "".join(sprintf(env_var_format, (key, value)) for key, value in pairs)


def to_unix_newlines(data: bytes) -> bytes:
    """Packer's ``UnixReader``: every line ends in LF (CRLF → LF; a last line gets its LF)."""
    if not data:
        return data
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return b"".join((line[:-1] if line.endswith(b"\r") else line) + b"\n" for line in lines)


async def retry(timeout: float, attempt: Callable[[], Awaitable[T]], *, delay: float = RETRY_DELAY) -> T:
    """Packer's ``retry.Config{StartTimeout: timeout}.Run``: try, and retry every ``delay`` (2 s) until ``timeout``."""
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        try:
            return await attempt()
        except BuildError as exc:
            if deadline is not None and time.monotonic() + delay > deadline:
                raise
            logger.debug("Retryable error: %s", exc)
            await asyncio.sleep(delay)


def check_exit_code(code: int, valid: Sequence[int]) -> None:
    """Raise Packer's error when ``code`` is not among ``valid`` (default ``[0]``)."""
    allowed = list(valid) or [0]
    if code not in allowed:
        shown = "[" + " ".join(str(c) for c in allowed) + "]"
        raise BuildError(f"Script exited with non-zero exit status: {code}.Allowed exit codes are: {shown}")


def stat_problem(kind: str, path: str) -> str | None:
    """``Bad <kind> '<path>': stat <path>: no such file or directory`` when ``path`` can't be stat'ed."""
    try:
        os.stat(path)
    except OSError as exc:
        reason = os.strerror(exc.errno or errno.ENOENT).lower()
        return f"Bad {kind} '{path}': stat {path}: {reason}"
    return None


@dataclass(frozen=True)
class ScriptsConfig:
    """The keys every script provisioner has (Packer 1.6.6's shell, powershell and windows-shell)."""

    inline: list[str] = option(factory=list)
    script: str = option("")
    scripts: list[str] = option(factory=list)
    environment_vars: list[str] = option(factory=list)
    env_var_format: str = option("")
    execute_command: str = option("", render=False)
    remote_path: str = option("")
    valid_exit_codes: list[int] = option(factory=list)
    binary: bool = option(False)
    start_retry_timeout: Duration = option(Duration(0))

    @property
    def script_paths(self) -> list[str]:
        return [self.script] if self.script else list(self.scripts)

    def check_one_script_key(self) -> Iterator[str]:
        if self.script and self.scripts:
            yield "Only one of script or scripts can be specified."

    def check_sources(self) -> Iterator[str]:
        """Inline or scripts (not both, not neither), every script readable, well-formed env vars."""
        paths = self.script_paths
        if not paths and not self.inline:
            yield "Either a script file or inline script must be specified."
        elif paths and self.inline:
            yield "Only a script file or an inline script can be specified, not both."
        for path in paths:
            if problem := stat_problem("script", path):
                yield problem
        yield from check_env_vars(self.environment_vars)

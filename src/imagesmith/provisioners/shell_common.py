"""Pieces of Packer's shell provisioner shared with other script runners.

Environment-variable flattening with Packer's quoting (``packer-plugin-sdk/shell``), the subset of
Go's ``fmt.Sprintf`` that ``env_var_format`` uses, CRLF → LF conversion (``UnixReader``), the
``retry.Config{StartTimeout}`` loop, and the exit-code check with Packer's wording.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from imagesmith.core.plugin import BuildInfo, LineCallback
from imagesmith.errors import BuildError
from imagesmith.log import logger

T = TypeVar("T")
RETRY_DELAY = 2.0  # seconds between tries, as Packer's retry.Config
_VERB = re.compile(r"%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])")
_HTTP_KEYS = (
    ("PackerHTTPAddr", "PACKER_HTTP_ADDR"),
    ("PackerHTTPIP", "PACKER_HTTP_IP"),
    ("PackerHTTPPort", "PACKER_HTTP_PORT"),
)


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


def go_sprintf(fmt: str, *args: str) -> str:
    """Go's ``fmt.Sprintf`` for string arguments: ``%s``/``%v``/``%q``/``%%``, MISSING and EXTRA markers."""
    out: list[str] = []
    pos = 0
    used = 0
    for match in _VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        verb = match.group(2)
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[used]
        used += 1
        out.append(_go_quote(value) if verb == "q" else value if verb in "sv" else f"%!{verb}(string={value})")
    out.append(fmt[pos:])
    if used < len(args):
        out.append("%!(EXTRA " + ", ".join(f"string={a}" for a in args[used:]) + ")")
    return "".join(out)


def _go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


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
    for key, name in _HTTP_KEYS:
        value = data.get(key, "")
        if value and not value.startswith("ERR_"):
            merged[name] = value
    for kv in env_vars:
        key, _, value = kv.partition("=")
        merged[key] = value.replace("'", "'\"'\"'")
    return sorted(merged.items())


def flatten_env_vars(pairs: Sequence[tuple[str, str]], env_var_format: str) -> str:
    return "".join(go_sprintf(env_var_format, key, value) for key, value in pairs)


def to_unix_newlines(data: bytes) -> bytes:
    """Packer's ``UnixReader``: every line ends in LF (CRLF → LF; a last line gets its LF)."""
    if not data:
        return data
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return b"".join((line[:-1] if line.endswith(b"\r") else line) + b"\n" for line in lines)


def render_fields(text: str, fields: Mapping[str, str], info: BuildInfo | None = None) -> str:
    """Render a field excluded from prepare-time rendering (execute_command, run_command, ...) with
    Packer's template engine: ``{{.Name}}`` reads ``fields``; user variables and build functions work too.
    """
    if "{{" not in text:
        return text
    from imagesmith.errors import RenderError
    from imagesmith.template.context import RenderContext
    from imagesmith.template.engine import render

    ctx = RenderContext(
        user_vars=dict(info.user_variables) if info else {},
        build_name=info.build_name if info else None,
        build_type=info.builder_type if info else None,
        template_path=(info.template_path or None) if info else None,
        data=dict(fields),
    )
    try:
        return render(text, ctx)
    except RenderError as exc:
        raise BuildError(f"Error processing command: {exc}") from exc


async def retry(timeout: float, attempt: Callable[[], Awaitable[T]]) -> T:
    """Packer's ``retry.Config{StartTimeout: timeout}.Run``: try, and retry every 2 s until ``timeout``."""
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        try:
            return await attempt()
        except BuildError as exc:
            if deadline is not None and time.monotonic() + RETRY_DELAY > deadline:
                raise
            logger.debug("Retryable error: %s", exc)
            await asyncio.sleep(RETRY_DELAY)


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

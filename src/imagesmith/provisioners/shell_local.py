"""The ``shell-local`` provisioner: run commands on the machine running imagesmith.

Packer 1.6.6's ``shell-local`` (``packer-plugin-sdk/shell-local``); the post-processor of the
same name reuses :func:`run_shell_local`. Inline commands go to a temporary ``packer-shell*``
script with ``#!<inline_shebang>``; each script runs through ``execute_command`` (default
``/bin/sh -c "{{.Vars}} {{.Script}}"``) with ``PACKER_BUILD_NAME``, ``PACKER_BUILDER_TYPE``,
``PACKER_HTTP_*`` and ``environment_vars`` in ``{{.Vars}}``. Output lines are streamed to the
UI (stdout as messages, stderr as errors), secret values masked.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.generated import http_env
from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.core.render import render_all, render_runtime
from imagesmith.errors import BuildError, ToolError
from imagesmith.run import run
from imagesmith.template.decode import option
from imagesmith.template.engine.printf import sprintf
from imagesmith.ui import Ui

GO_OS_NAMES = ("darwin", "freebsd", "linux", "openbsd", "solaris", "windows")
RENDER_ERROR = "Error processing command: "
TOO_MANY = (
    "You may only specify one of the following options: Command, Inline, Script or Scripts. "
    "Please consolidate these options in your config."
)


def go_os() -> str:
    """This machine's OS as Go's ``runtime.GOOS`` names it."""
    if sys.platform == "win32":
        return "windows"
    return sys.platform.rstrip("0123456789")


@dataclass(frozen=True)
class ShellLocalConfig:
    """Options of shell-local (provisioner and post-processor)."""

    command: str = option("")
    inline: list[str] | None = option(None)
    script: str = option("")
    scripts: list[str] = option(factory=list)
    execute_command: list[str] = option(factory=list, render=False)
    environment_vars: list[str] = option(factory=list)
    env_var_format: str = option("")
    inline_shebang: str = option("")
    only_on: list[str] = option(factory=list)
    use_linux_pathing: bool = option(False)
    tempfile_extension: str = option("")
    valid_exit_codes: list[int] = option(factory=list)
    binary: bool = option(False)

    def check(self) -> Iterable[str]:
        """Packer's ``shell_local.Validate`` rules."""
        if not (self.command or self.inline or self.scripts or self.script):
            yield "Command, Inline, Script and Scripts options cannot all be empty."
        if self._too_many():
            yield TOO_MANY
        for path in self.script_paths():
            if not os.path.exists(path):
                yield f"Bad script '{path}': stat {path}: no such file or directory"
        for name in self.only_on:
            if name not in GO_OS_NAMES:
                yield f"Invalid OS specified in only_on: '{name}'\nSupported OS names: {', '.join(GO_OS_NAMES)}"
        if self.use_linux_pathing:
            yield from self._check_linux_pathing()
        for kv in self.environment_vars:
            key, eq, _ = kv.partition("=")
            if not eq or not key:
                yield f"Environment variable not in format 'key=value': {kv}"

    def _too_many(self) -> bool:
        if self.command:
            return bool(self.inline or self.scripts or self.script)
        if self.script:
            return bool(self.scripts or self.inline)
        return bool(self.scripts) and self.inline is not None

    def _check_linux_pathing(self) -> Iterable[str]:
        for path in self.script_paths():
            absolute = os.path.abspath(path).replace("\\", "/")
            if ":/" not in absolute:
                yield (
                    "There was an error splitting your absolute path; expected to find a drive following "
                    f"the format ':/' but did not: absolute path: {absolute}"
                )
        if self.inline_lines():
            yield (
                "Packer is unable to use the Command and Inline features with the Windows Linux Subsystem. "
                "Please use the Script or Scripts options instead"
            )

    def script_paths(self) -> list[str]:
        return [self.script] if self.script else list(self.scripts)

    def inline_lines(self) -> list[str] | None:
        if self.command:
            return [self.command]
        return self.inline


def flatten_env(config: ShellLocalConfig, info: BuildInfo, data: Mapping[str, str]) -> str:
    """``{{.Vars}}``: the sorted ``KEY='value' `` list Packer builds."""
    env = {"PACKER_BUILD_NAME": info.build_name, "PACKER_BUILDER_TYPE": info.builder_type} | http_env(data)
    for kv in config.environment_vars:
        key, _, value = render_runtime(kv, info, data, error=RENDER_ERROR).partition("=")
        env[key] = value.replace("'", "'\"'\"'")
    fmt = config.env_var_format or "%s='%s' "
    return "".join(sprintf(fmt, (key, env[key])) for key in sorted(env))


def write_inline_script(config: ShellLocalConfig, lines: list[str], info: BuildInfo, data: Mapping[str, str]) -> str:
    """The temporary ``packer-shell*`` script for inline commands (mode 0700)."""
    shebang = config.inline_shebang or "/bin/sh -e"
    text = f"#!{shebang}\n" + "".join(render_runtime(line, info, data, error=RENDER_ERROR) + "\n" for line in lines)
    fd, path = tempfile.mkstemp(prefix="packer-shell", dir=os.environ.get("PACKER_TMP_DIR") or None)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o700)
    ext = config.tempfile_extension.removeprefix(".")
    if ext:
        os.rename(path, f"{path}.{ext}")
        path = f"{path}.{ext}"
    return path


async def run_shell_local(config: ShellLocalConfig, ui: Ui, info: BuildInfo, data: Mapping[str, str]) -> None:
    """Run every script of ``config``; raise BuildError on a disallowed exit status."""
    if config.only_on and go_os() not in config.only_on:
        ui.say("Skipping shell-local due to runtime OS")
        return
    lines = config.inline_lines()
    temp = None
    scripts = config.script_paths()
    if not scripts and lines is not None:
        try:
            # Written on the loop (a few bytes): with a worker thread, a Ctrl-C during the await
            # left the file behind, since the thread finished after ``temp`` could be recorded.
            temp = write_inline_script(config, lines, info, data)
        except OSError as exc:
            raise BuildError(f"Error preparing shell script: {exc}") from exc
        scripts = [temp]
    try:
        env_vars = flatten_env(config, info, data)
        for script in scripts:
            await _run_one(config, ui, info, data, script, env_vars)
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)


async def _run_one(
    config: ShellLocalConfig, ui: Ui, info: BuildInfo, data: Mapping[str, str], script: str, env_vars: str
) -> None:
    absolute = os.path.abspath(script)
    runtime = {**data, "Vars": env_vars, "Script": absolute, "Command": absolute}
    argv = render_all(config.execute_command or _default_execute(), info, runtime, error=RENDER_ERROR)
    ui.say(f"Running local shell script: {script}")
    try:
        env = {"PACKER_RUN_UUID": info.run_uuid} if info.run_uuid else None  # this run's, not the process's
        done = await run(argv, check=False, on_stdout=ui.message, on_stderr=ui.error, what="shell-local", env=env)
    except ToolError as exc:  # could not start
        ui.error(str(exc))  # the "output above" the message points to
        raise BuildError(
            f"Error executing script: {absolute}\n\nPlease see output above for more information."
        ) from exc
    status = done.returncode if done.returncode >= 0 else -1  # Go reports -1 for a signalled process
    allowed = config.valid_exit_codes or [0]
    if status not in allowed:
        codes = " ".join(str(c) for c in allowed)
        raise BuildError(f"Script exited with non-zero exit status: {status}.Allowed exit codes are: [{codes}]")


def _default_execute() -> list[str]:
    return ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]


class ShellLocalProvisioner(Provisioner):
    type_name = "shell-local"
    config_class = ShellLocalConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        await run_shell_local(self.config, ui, self.info, data)

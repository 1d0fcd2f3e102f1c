"""The windows-shell provisioner (Packer 1.6.6 ``provisioner/windows-shell``): cmd batch scripts on Windows.

Each script (``inline`` lines become one local temporary script) is uploaded to ``remote_path``
(default ``c:/Windows/Temp/script.bat``) and run with ``execute_command``, default
``{{.Vars}}"{{.Path}}"`` where ``.Vars`` is ``set "K=v" && `` per variable, sorted. Upload and
start are retried until ``start_retry_timeout``; the exit status is checked against
``valid_exit_codes``. Nothing is removed afterwards (Packer leaves the script too).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.provisioners.shell_common import ScriptsConfig, check_exit_code, retry
from imagesmith.provisioners.windows_common import flatten_env
from imagesmith.ui import Ui

DEFAULT_REMOTE_PATH = "c:/Windows/Temp/script.bat"
ENV_VAR_FORMAT = 'set "%s=%s" && '
EXECUTE_COMMAND = '{{.Vars}}"{{.Path}}"'


@dataclass(frozen=True)
class WindowsShellConfig(ScriptsConfig):

    def check(self) -> Iterator[str]:
        yield from self.check_one_script_key()
        yield from self.check_sources()


class WindowsShellProvisioner(Provisioner):
    type_name = "windows-shell"
    config_class = WindowsShellConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the windows-shell provisioner needs a communicator; this build has none")
        c: WindowsShellConfig = self.config
        ui.say("Provisioning with windows-shell...")
        scripts = [c.script] if c.script else list(c.scripts)
        inline = _write_inline(c.inline) if c.inline else ""
        try:
            if inline:
                scripts.append(inline)
            for path in scripts:
                ui.say(f"Provisioning with shell script: {path}")
                await self._run_script(ui, comm, data, path)
        finally:
            if inline:
                Path(inline).unlink(missing_ok=True)

    async def _run_script(self, ui: Ui, comm: Communicator, data: Mapping[str, str], path: str) -> None:
        c: WindowsShellConfig = self.config
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise BuildError(f"Error opening shell script: {exc}") from exc
        info = self.info
        env = flatten_env(
            c.environment_vars, info.build_name, info.builder_type, data, c.env_var_format or ENV_VAR_FORMAT, ps=False
        )
        remote = c.remote_path or DEFAULT_REMOTE_PATH
        # Packer renders this command with only Vars and Path as data (no build data).
        fields = {"Vars": env, "Path": remote}
        command = render_runtime(c.execute_command or EXECUTE_COMMAND, info, fields, error="Error processing command: ")

        async def attempt() -> int:
            try:
                await comm.upload(remote, content)
            except BuildError as exc:
                raise BuildError(f"Error uploading script: {exc}") from exc
            return await comm.execute(command, stdout=ui.message, stderr=ui.error)

        status = await retry(float(c.start_retry_timeout) or 300.0, attempt)
        check_exit_code(status, c.valid_exit_codes)


def _write_inline(lines: list[str]) -> str:
    """The inline lines as a local script (``$TMPDIR/windows-shell-provisioner<random>``, as Packer names it)."""
    fd, name = tempfile.mkstemp(prefix="windows-shell-provisioner")
    with os.fdopen(fd, "w") as out:
        out.writelines(line + "\n" for line in lines)
    return name

"""The shell provisioner (Packer 1.6.6 ``provisioner/shell``): run scripts on the machine being built.

Each script (``inline`` lines become a temporary script with ``inline_shebang``) is uploaded to
``remote_path``, made executable, run with ``execute_command`` (rendered with ``.Path``, ``.Vars``
and ``.EnvVarFile``), checked against ``valid_exit_codes`` and removed unless ``skip_clean``.
Upload and start are retried until ``start_retry_timeout``. Communicators that can do all of
that in one round trip (docker) are asked to; the result on the machine is the same.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.plugin import CMD_DISCONNECT, BuildInfo, Communicator, Provisioner
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.provisioners.shell_common import (
    ScriptRunner,
    ScriptsConfig,
    check_exit_code,
    flatten_env_vars,
    make_env_vars,
    retry,
    to_unix_newlines,
)
from imagesmith.template.decode import option
from imagesmith.template.values import Duration
from imagesmith.ui import Ui

DISCONNECTED = (
    "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, "
    'you can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell '
    "provisioner parameters."
)


@dataclass(frozen=True)
class ShellConfig(ScriptsConfig):
    use_env_var_file: bool = option(False)
    inline_shebang: str = option("")
    remote_folder: str = option("")
    remote_file: str = option("")
    skip_clean: bool = option(False)
    expect_disconnect: bool = option(False)
    pause_after: Duration = option(Duration(0))

    def check(self) -> Iterator[str]:
        yield from self.check_one_script_key()
        yield from self.check_sources()


class ShellProvisioner(Provisioner):
    type_name = "shell"
    config_class = ShellConfig

    def __init__(self, config: ShellConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        c = config
        self.env_var_format = c.env_var_format or ("export %s='%s'\n" if c.use_env_var_file else "%s='%s' ")
        self.execute_command = c.execute_command or (
            "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
            if c.use_env_var_file
            else "chmod +x {{.Path}}; {{.Vars}} {{.Path}}"
        )
        self.remote_folder = c.remote_folder or "/tmp"
        remote_file = c.remote_file or f"script_{random.randrange(9999)}.sh"
        self.remote_path = c.remote_path or f"{self.remote_folder}/{remote_file}"
        self.retry_timeout = float(c.start_retry_timeout) or 300.0
        self.valid_codes = list(c.valid_exit_codes) or [0]

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the shell provisioner needs a communicator; this build has none")
        c = self.config
        env = make_env_vars(c.environment_vars, self.info.build_name, self.info.builder_type, data)
        scripts = [c.script] if c.script else list(c.scripts)
        inline = _write_inline(c.inline_shebang or "/bin/sh -e", c.inline) if c.inline else ""
        try:
            if inline:
                scripts.append(inline)
            env_file = ""
            if c.use_env_var_file:
                env_file = await self._upload_env_file(comm, flatten_env_vars(env, self.env_var_format))
            # Packer adds these keys to the generated data, so {{ build `ID` }} works here too.
            fields = {**data, "Vars": flatten_env_vars(env, self.env_var_format), "EnvVarFile": env_file}
            fields["Path"] = self.remote_path
            command = render_runtime(self.execute_command, self.info, fields, error="Error processing command: ")
            for path in scripts:
                ui.say(f"Provisioning with shell script: {path}")
                await self._run_script(ui, comm, path, command)
            if env_file and not c.skip_clean:
                await self._remove(comm, env_file)
        finally:
            if inline:
                Path(inline).unlink(missing_ok=True)
        if c.pause_after > 0:
            ui.say(f"Pausing {c.pause_after} after this provisioner...")
            await asyncio.sleep(float(c.pause_after))

    async def _run_script(self, ui: Ui, comm: Communicator, path: str, command: str) -> None:
        try:
            content = await asyncio.to_thread(Path(path).read_bytes)
        except OSError as exc:
            raise BuildError(f"Error opening shell script: {exc}") from exc
        if not self.config.binary:
            content = to_unix_newlines(content)
        cleaned = False

        async def attempt() -> int:
            nonlocal cleaned
            if isinstance(comm, ScriptRunner):
                keep_unless = None if self.config.skip_clean else self.valid_codes
                status = await comm.execute_script(
                    self.remote_path, content, command, keep_unless=keep_unless, stdout=ui.message, stderr=ui.error
                )
                if status is not None:
                    cleaned = True
                    return status
            try:
                await comm.upload(self.remote_path, content)
            except BuildError as exc:
                raise BuildError(f"Error uploading script: {exc}") from exc
            await comm.execute(f"chmod 0755 {self.remote_path}")
            return await comm.execute(command, stdout=ui.message, stderr=ui.error)

        status = await retry(self.retry_timeout, attempt)
        if status == CMD_DISCONNECT:
            if not self.config.expect_disconnect:
                raise BuildError(DISCONNECTED)
        else:
            check_exit_code(status, self.valid_codes)
        if not self.config.skip_clean and not cleaned:
            await self._remove(comm, self.remote_path)

    async def _upload_env_file(self, comm: Communicator, content: str) -> str:
        remote = f"{self.remote_folder}/varfile_{random.randrange(9999)}.sh"
        data = content.encode()
        if not self.config.binary:
            data = to_unix_newlines(data)

        async def attempt() -> None:
            try:
                await comm.upload(remote, data)
            except BuildError as exc:
                raise BuildError(f"Error uploading envVarFile: {exc}") from exc
            await comm.execute(f"chmod 0600 {remote}")

        await retry(self.retry_timeout, attempt)
        return remote

    async def _remove(self, comm: Communicator, path: str) -> None:
        async def attempt() -> None:
            status = await comm.execute(f"rm -f {path}")
            if status == CMD_DISCONNECT:
                raise BuildError("Disconnect while removing temporary script.")
            if status != 0:
                raise BuildError(f"Error removing temporary script at {path}!")

        await retry(self.retry_timeout, attempt)


def _write_inline(shebang: str, lines: list[str]) -> str:
    """The inline lines as a local script (named like Packer's, ``$TMPDIR/packer-shell<random>``)."""
    fd, name = tempfile.mkstemp(prefix="packer-shell")
    with os.fdopen(fd, "w") as out:
        out.write(f"#!{shebang}\n")
        out.writelines(line + "\n" for line in lines)
    return name

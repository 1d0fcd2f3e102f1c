"""The powershell provisioner (Packer 1.6.6 ``provisioner/powershell``): PowerShell scripts on Windows.

For each script (``inline`` lines become one local temporary script), the environment variables
are uploaded to ``remote_env_var_path`` as ``$env:K="v"; `` entries, the script to
``remote_path``, and ``execute_command`` runs it (``.Path``, ``.Vars`` = the env-var file)::

    powershell -executionpolicy bypass "& { if (Test-Path variable:global:ProgressPreference){...};
        . c:/Windows/Temp/packer-ps-env-vars-<uuid>.ps1; &'c:/Windows/Temp/script-<uuid>.ps1'; exit $LastExitCode }"

With ``elevated_user`` the rendered ``elevated_execute_command`` is wrapped in a Task Scheduler
script (:func:`~imagesmith.provisioners.windows_common.upload_elevated_wrapper`). Unless
``skip_clean``, a cleanup script removing every uploaded file (and itself) is uploaded and run the
same way; its failure is only logged, as in Packer.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.log import logger
from imagesmith.provisioners.shell_common import ScriptsConfig, check_exit_code, retry
from imagesmith.provisioners.windows_common import flatten_env, time_ordered_uuid, upload_elevated_wrapper
from imagesmith.secrets import current_filter
from imagesmith.template.decode import option
from imagesmith.ui import Ui

POLICIES = ("bypass", "allsigned", "default", "remotesigned", "restricted", "undefined", "unrestricted", "none")
ENV_VAR_FORMAT = '$env:%s="%s"; '
CLEANUP_RETRY = 60.0  # Packer retries the cleanup for a minute, every 10 s
CLEANUP_DELAY = 10.0


@dataclass(frozen=True)
class PowershellConfig(ScriptsConfig):
    remote_env_var_path: str = option("")
    elevated_execute_command: str = option("", render=False)
    skip_clean: bool = option(False)
    elevated_env_var_format: str = option("")
    elevated_user: str = option("")
    elevated_password: str = option("")
    execution_policy: str = option("bypass")
    debug_mode: int = option(0)

    def check(self) -> Iterator[str]:
        yield from self.check_one_script_key()
        if not self.elevated_user and self.elevated_password:
            yield "Must supply an 'elevated_user' if 'elevated_password' provided"
        yield from self.check_sources()
        if self.execution_policy not in POLICIES:
            yield (
                'Invalid execution policy provided. Please supply one of: "bypass", "allsigned", "default", '
                '"remotesigned", "restricted", "undefined", "unrestricted", "none".'
            )
        if not 0 <= self.debug_mode <= 2:
            yield f"{self.debug_mode} is an invalid Trace level for `debug_mode`; valid values are 0, 1, and 2"


def default_execute_command(policy: str, debug_mode: int) -> str:
    """Packer's default command: the script dot-sources the env-var file, runs, and passes its exit code on."""
    base = (
        "& { if (Test-Path variable:global:ProgressPreference)"
        "{set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};"
    )
    if debug_mode:
        base += f"Set-PsDebug -Trace {debug_mode};"
    base += ". {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }"
    return base if policy == "none" else f'powershell -executionpolicy {policy} "{base}"'


class PowershellProvisioner(Provisioner):
    type_name = "powershell"
    config_class = PowershellConfig

    def __init__(self, config: PowershellConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        c = config
        default = default_execute_command(c.execution_policy, c.debug_mode)
        self.execute_command = c.execute_command or default
        self.elevated_execute_command = c.elevated_execute_command or default
        self.remote_path = c.remote_path or f"c:/Windows/Temp/script-{time_ordered_uuid()}.ps1"
        self.env_path = c.remote_env_var_path or f"c:/Windows/Temp/packer-ps-env-vars-{time_ordered_uuid()}.ps1"
        self.cleanup_path = f"c:/Windows/Temp/packer-cleanup-{time_ordered_uuid()}.ps1"
        self.retry_timeout = float(c.start_retry_timeout) or 300.0
        if c.elevated_password:
            current_filter().add(c.elevated_password)

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the powershell provisioner needs a communicator; this build has none")
        c: PowershellConfig = self.config
        ui.say("Provisioning with Powershell...")
        scripts = [c.script] if c.script else list(c.scripts)
        inline = _write_inline(c.inline) if c.inline else ""
        uploaded = [self.env_path]
        try:
            if inline:
                scripts.append(inline)
            for path in scripts:
                ui.say(f"Provisioning with powershell script: {path}")
                if self.remote_path.endswith("\\"):
                    self.remote_path += os.path.basename(path)
                await self._run_script(ui, comm, data, path)
                uploaded.append(self.remote_path)
        finally:
            if inline:
                Path(inline).unlink(missing_ok=True)
        if not c.skip_clean:
            await self._clean(ui, comm, data, uploaded)

    async def _run_script(self, ui: Ui, comm: Communicator, data: Mapping[str, str], path: str) -> None:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise BuildError(f"Error opening powershell script: {exc}") from exc
        command = await self._command(comm, data)

        async def attempt() -> int:
            try:
                await comm.upload(self.remote_path, content)
            except BuildError as exc:
                raise BuildError(f"Error uploading script: {exc}") from exc
            return await comm.execute(command, stdout=ui.message, stderr=ui.error)

        status = await retry(self.retry_timeout, attempt)
        logger.debug("%s returned with exit code %d", self.remote_path, status)
        check_exit_code(status, self.config.valid_exit_codes)

    async def _command(self, comm: Communicator, data: Mapping[str, str]) -> str:
        """Upload the env-var file, then the rendered command (wrapped for ``elevated_user``)."""
        c: PowershellConfig = self.config
        elevated = bool(c.elevated_user)
        fmt = (c.elevated_env_var_format if elevated else c.env_var_format) or ENV_VAR_FORMAT
        env = flatten_env(c.environment_vars, self.info.build_name, self.info.builder_type, data, fmt, ps=True)
        await self._upload_env(comm, env)
        fields = {**data, "Path": self.remote_path, "Vars": self.env_path}
        template = self.elevated_execute_command if elevated else self.execute_command
        command = render_runtime(template, self.info, fields, error="Error processing command: ")
        if not elevated:
            return command
        return await upload_elevated_wrapper(comm, command, c.elevated_user, c.elevated_password)

    async def _upload_env(self, comm: Communicator, env: str) -> None:
        async def attempt() -> None:
            try:
                await comm.upload(self.env_path, env.encode())
            except BuildError as exc:
                raise BuildError(f"Error uploading ps script containing env vars: {exc}") from exc

        await retry(self.retry_timeout, attempt)

    async def _clean(self, ui: Ui, comm: Communicator, data: Mapping[str, str], uploaded: list[str]) -> None:
        """Upload and run the cleanup script; a failure is logged and the build goes on (as Packer)."""
        files = [*uploaded, self.cleanup_path]
        script = "".join(f"if (Test-Path {name}) {{Remove-Item {name}}}\n" for name in files)
        fields = {**data, "Path": self.cleanup_path, "Vars": self.env_path}

        async def attempt() -> int:
            try:
                await comm.upload(self.cleanup_path, script.encode())
            except BuildError as exc:
                raise BuildError(f"clean up script {self.cleanup_path!r} failed to upload: {exc}") from exc
            command = render_runtime(self.execute_command, self.info, fields, error="Error processing command: ")
            return await comm.execute(command, stdout=ui.message, stderr=ui.error)

        try:
            await retry(CLEANUP_RETRY, attempt, delay=CLEANUP_DELAY)
        except BuildError as exc:
            logger.info("remote cleanup script failed (%s); not removing %s", exc, ",".join(uploaded))


def _write_inline(lines: list[str]) -> str:
    """The inline lines as a local script (``$TMPDIR/powershell-provisioner<random>``, as Packer names it)."""
    fd, name = tempfile.mkstemp(prefix="powershell-provisioner")
    with os.fdopen(fd, "w") as out:
        out.writelines(line + "\n" for line in lines)
    return name

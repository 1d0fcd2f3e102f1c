"""The converge provisioner (Packer 1.6.6 ``provisioner/converge``): ``converge apply`` in the guest.

With ``bootstrap``, ``bootstrap_command`` runs first (default ``curl -s https://get.converge.sh | sudo
sh [-s -- -v VERSION]``). Each of ``module_dirs`` is uploaded with the communicator's directory upload
(``source`` → ``destination``, ``exclude`` honoured); then ``execute_command`` runs::

    cd /tmp && sudo converge apply --local --log-level=WARNING --paramsJSON '{"k":"v"}' MODULE

(``params`` as Go's compact JSON, keys sorted). Output is shown once the command ends, as in Packer;
exit status 127 means converge was not found.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import encode_go_json_string_map, render_runtime
from imagesmith.template.decode import option
from imagesmith.ui import Ui

EXECUTE_COMMAND = (
    "cd {{.WorkingDirectory}} && {{if .Sudo}}sudo {{end}}converge apply --local --log-level=WARNING "
    "--paramsJSON '{{.ParamsJSON}}' {{.Module}}"
)
BOOTSTRAP_COMMAND = (
    'curl -s https://get.converge.sh | {{if .Sudo}}sudo {{end}}sh {{if ne .Version ""}}-s -- -v {{.Version}}{{end}}'
)


@dataclass(frozen=True)
class ModuleDir:
    source: str = option("")
    destination: str = option("")
    exclude: list[str] = option(factory=list)


@dataclass(frozen=True)
class ConvergeConfig:
    bootstrap: bool = option(False)
    version: str = option("")
    bootstrap_command: str = option("", render=False)
    prevent_bootstrap_sudo: bool = option(False)
    module_dirs: list[ModuleDir] = option(factory=list)
    module: str = option("")
    working_directory: str = option("")
    params: dict[str, str] = option(factory=dict)
    execute_command: str = option("", render=False)
    prevent_sudo: bool = option(False)

    def check(self) -> Iterator[str]:
        if not self.module:
            yield "Converge requires a module to provision the system"
        for i, directory in enumerate(self.module_dirs):
            if not directory.source:
                yield f'Source ("source" key) is required in Converge module dir #{i}'
            if not directory.destination:
                yield f'Destination ("destination" key) is required in Converge module dir #{i}'


class ConvergeProvisioner(Provisioner):
    type_name = "converge"
    config_class = ConvergeConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the converge provisioner needs a communicator; this build has none")
        c: ConvergeConfig = self.config
        ui.say("Provisioning with Converge")
        if c.bootstrap:
            await self._bootstrap(ui, comm)
        for directory in c.module_dirs:
            try:
                await comm.upload_dir(directory.destination, directory.source, directory.exclude)
            except BuildError as exc:
                raise BuildError(f'Could not upload "{directory.source}": {exc}') from exc
            ui.message(f'transferred "{directory.source}" to "{directory.destination}"')
        await self._apply(ui, comm)

    async def _bootstrap(self, ui: Ui, comm: Communicator) -> None:
        c: ConvergeConfig = self.config
        ui.message("bootstrapping converge")
        fields = {"Version": c.version, "Sudo": not c.prevent_bootstrap_sudo}
        command = self._render(c.bootstrap_command or BOOTSTRAP_COMMAND, fields, "bootstrap command")
        status, out, err = await _collect(comm, command)
        if status != 0:
            ui.error(out)
            ui.error(err)
            raise BuildError("Error bootstrapping converge")
        ui.message(out.strip())

    async def _apply(self, ui: Ui, comm: Communicator) -> None:
        c: ConvergeConfig = self.config
        fields = {
            "ParamsJSON": encode_go_json_string_map(c.params),
            "WorkingDirectory": c.working_directory or "/tmp",
            "Module": c.module,
            "Sudo": not c.prevent_sudo,
        }
        command = self._render(c.execute_command or EXECUTE_COMMAND, fields, "execute command")
        status, out, err = await _collect(comm, command)
        if status == 127:
            ui.error("Could not find Converge. Is it installed and in PATH?")
            if not c.bootstrap:
                ui.error("Bootstrapping was disabled for this run. That might be why Converge isn't present.")
            raise BuildError("Could not find Converge")
        if status != 0:
            ui.error(out.strip())
            ui.error(err.strip())
            ui.error(f"Exited with error code {status}.")
            raise BuildError(f'Error applying "{c.module}"')
        ui.message(out.strip())

    def _render(self, text: str, fields: Mapping[str, Any], what: str) -> str:
        try:
            return render_runtime(text, fields, self.info, what)
        except BuildError as exc:
            raise BuildError(f"Could not interpolate {what}: {exc}") from exc


async def _collect(comm: Communicator, command: str) -> tuple[int, str, str]:
    """Run ``command``; its exit status and its whole stdout and stderr (Packer buffers them)."""
    out: list[str] = []
    err: list[str] = []
    status = await comm.execute(command, stdout=out.append, stderr=err.append)
    return status, "".join(line + "\n" for line in out), "".join(line + "\n" for line in err)

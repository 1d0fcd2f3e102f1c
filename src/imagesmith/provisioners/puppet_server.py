"""The puppet-server provisioner (Packer 1.6.6 ``provisioner/puppet-server``): ``puppet agent`` against a server.

Staging (``staging_dir``, default ``/tmp/packer-puppet-server``, made with ``mkdir -p`` and
``chmod 0777``) receives ``certs/`` (``client_cert_path``) and ``private_keys/``
(``client_private_key_path``); then ``execute_command`` runs::

    cd WD && FACTER_k='v'… sudo -E [BIN/]puppet agent --onetime --no-daemonize --detailed-exitcodes
        [--server='S'] [--certname='N'] [--certdir='S/certs'] [--privatekeydir='S/private_keys'] [EXTRA ]

(one line, ending in a space as Packer's does). Exit statuses 0 and 2 succeed; ``ignore_exit_codes``
accepts any. Facts are sorted by name (Packer's order is a Go map's).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import (
    WINDOWS,
    GuestCommands,
    GuestOsOptions,
    create_dir,
    remove_staging,
    render_runtime,
    run_command,
    stat_error,
    upload_dir_contents,
    with_prefix,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

_AGENT = (
    "puppet agent --onetime --no-daemonize --detailed-exitcodes "
    "{{if .Debug}}--debug {{end}}"
    "{{if ne .PuppetServer \"\"}}--server='{{.PuppetServer}}' {{end}}"
    "{{if ne .PuppetNode \"\"}}--certname='{{.PuppetNode}}' {{end}}"
    "{{if ne .ClientCertPath \"\"}}--certdir='{{.ClientCertPath}}' {{end}}"
    "{{if ne .ClientPrivateKeyPath \"\"}}--privatekeydir='{{.ClientPrivateKeyPath}}' {{end}}"
    '{{if ne .ExtraArguments ""}}{{.ExtraArguments}} {{end}}'
)
UNIX_EXECUTE_COMMAND = (
    'cd {{.WorkingDir}} && {{if ne .FacterVars ""}}{{.FacterVars}} {{end}}{{if .Sudo}}sudo -E {{end}}'
    '{{if ne .PuppetBinDir ""}}{{.PuppetBinDir}}/{{end}}' + _AGENT
)
WINDOWS_EXECUTE_COMMAND = (
    'cd {{.WorkingDir}} && {{if ne .FacterVars ""}}{{.FacterVars}} && {{end}}'
    '{{if ne .PuppetBinDir ""}}{{.PuppetBinDir}}/{{end}}' + _AGENT
)


@dataclass(frozen=True)
class PuppetServerConfig(GuestOsOptions):
    clean_staging_directory: bool = option(False)
    client_cert_path: str = option("")
    client_private_key_path: str = option("")
    execute_command: str = option("", render=False)
    extra_arguments: list[str] = option(factory=list, render=False)
    facter: dict[str, str] = option(factory=dict)
    guest_os_type: str = option("")
    ignore_exit_codes: bool = option(False)
    prevent_sudo: bool = option(False)
    puppet_bin_dir: str = option("")
    puppet_node: str = option("")
    puppet_server: str = option("")
    staging_dir: str = option("")
    working_directory: str = option("")
    elevated_user: str = option("")
    elevated_password: str = option("")

    def check_options(self) -> Iterator[str]:
        if self.elevated_user:
            yield "elevated_user: the Windows elevated runner is not supported by imagesmith yet"
        for path, name in (
            (self.client_cert_path, "client_cert_dir"),
            (self.client_private_key_path, "client_private_key_dir"),
        ):
            if path:
                err, is_dir = stat_error(path)
                if err:
                    yield f"{name} is invalid: {err}"
                elif not is_dir:
                    yield f"{name} must point to a directory"


class PuppetServerProvisioner(Provisioner):
    type_name = "puppet-server"
    config_class = PuppetServerConfig

    def __init__(self, config: PuppetServerConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        windows = config.os_type == WINDOWS
        self.guest = GuestCommands(config.os_type, sudo=not config.prevent_sudo)
        # Packer reads the *host's* SYSTEMROOT for Windows guests (its own FIXME); so does imagesmith.
        root = os.environ.get("SYSTEMROOT", "").replace("\\", "/")
        self.staging = config.staging_dir or (
            f"{root}/Temp/packer-puppet-server" if windows else "/tmp/packer-puppet-server"
        )
        self.working_dir = config.working_directory or self.staging
        self.execute_command = config.execute_command or (WINDOWS_EXECUTE_COMMAND if windows else UNIX_EXECUTE_COMMAND)
        self.facter_format, self.facter_joiner = ('SET "FACTER_{}={}"', " & ") if windows else ("FACTER_{}='{}'", " ")

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the puppet-server provisioner needs a communicator; this build has none")
        ui.say("Provisioning with Puppet...")
        ui.message("Creating Puppet staging directory...")
        await with_prefix("Error creating staging directory", create_dir(ui, comm, self.guest, self.staging))
        try:
            await self._run(ui, comm, await self._upload(ui, comm))
        except BaseException:
            if self.config.clean_staging_directory:
                await remove_staging(ui, comm, self.guest, self.staging)
            raise
        if self.config.clean_staging_directory and await run_command(ui, comm, self.guest.remove_dir(self.staging)):
            raise BuildError("Error removing staging directory: Non-zero exit status.")

    async def _upload(self, ui: Ui, comm: Communicator) -> dict[str, Any]:
        """Upload the client's certs and private keys; return the command's fields."""
        c = self.config
        remote = {"ClientCertPath": "", "ClientPrivateKeyPath": ""}
        for key, src, name, what, error in (
            ("ClientCertPath", c.client_cert_path, "certs", "client cert", "client cert"),
            (
                "ClientPrivateKeyPath",
                c.client_private_key_path,
                "private_keys",
                "client private keys",
                "client private keys",
            ),
        ):
            if src:
                ui.message(f"Uploading {what} from: {src}")
                remote[key] = f"{self.staging}/{name}"
                await with_prefix(
                    f"Error uploading {error}", upload_dir_contents(ui, comm, self.guest, remote[key], src)
                )
        facts = {**c.facter, "packer_build_name": self.info.build_name, "packer_builder_type": self.info.builder_type}
        return {
            **remote,
            "Debug": False,  # Packer 1.6.6 never sets it
            "ExtraArguments": "",
            "FacterVars": self.facter_joiner.join(self.facter_format.format(k, v) for k, v in sorted(facts.items())),
            "PuppetNode": c.puppet_node,
            "PuppetServer": c.puppet_server,
            "PuppetBinDir": c.puppet_bin_dir,
            "Sudo": not c.prevent_sudo,
            "WorkingDir": self.working_dir,
        }

    async def _run(self, ui: Ui, comm: Communicator, fields: dict[str, Any]) -> None:
        fields["ExtraArguments"] = render_runtime(
            " ".join(self.config.extra_arguments), fields, self.info, "extra_arguments"
        )
        command = render_runtime(self.execute_command, fields, self.info, "execute_command")
        ui.message(f"Running Puppet: {command}")
        status = await run_command(ui, comm, command)
        if status not in (0, 2) and not self.config.ignore_exit_codes:
            raise BuildError(f"Puppet exited with a non-zero exit status: {status}")

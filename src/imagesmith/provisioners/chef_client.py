"""The chef-client provisioner (Packer 1.6.6 ``provisioner/chef-client``): a Chef run against a Chef server.

Unless ``skip_install``, ``install_command`` runs first (as for chef-solo; ``chef_license`` then
defaults to ``accept-silent``). The staging directory (default ``/tmp/packer-chef-client``)
receives ``encrypted_data_bag_secret`` and ``validation.pem`` when given, then ``client.rb`` (from
``config_template`` or the default template below) and ``first-boot.json`` (``json`` plus
``run_list``, as chef-solo's node.json). ``execute_command`` runs; then, even when it failed and
unless both are skipped, ``knife.rb`` is written and ``knife node delete`` and ``knife client
delete`` remove the node (``node_name``, default ``packer-<uuid>``) from the server. Last the
staging directory goes, unless ``skip_clean_staging_directory``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagesmith.core.plugin import BuildInfo, Communicator
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import (
    WINDOWS,
    ChefOptions,
    ChefProvisioner,
    create_dir,
    go_join,
    go_path_error,
    make_chef_json,
    remove_staging,
    run_command,
    time_ordered_uuid,
    with_prefix,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

UNIX_EXECUTE = "{{if .Sudo}}sudo {{end}}chef-client --no-color -c {{.ConfigPath}} -j {{.JsonPath}}"
WINDOWS_EXECUTE = "c:/opscode/chef/bin/chef-client.bat --no-color -c {{.ConfigPath}} -j {{.JsonPath}}"
UNIX_KNIFE = "{{if .Sudo}}sudo {{end}}knife {{.Args}} {{.Flags}}"
WINDOWS_KNIFE = "c:/opscode/chef/bin/knife.bat {{.Args}} {{.Flags}}"
CANCEL_CLEANUP_TIMEOUT = 30.0  # seconds the staging directory's removal may take after Ctrl-C
STAGING = {"unix": "/tmp/packer-chef-client", WINDOWS: "C:/Windows/Temp/packer-chef-client"}


def _setting(name: str, value: str) -> str:
    """A client.rb line with the value in column 18, as Packer aligns its first lines."""
    return f"{name:<17}{value}\n"


def _when_set(field: str, line: str) -> str:
    """``line`` only when ``.field`` is not empty; the ``{{if}}``/``{{end}}`` lines render blank."""
    return f'{{{{if ne .{field} ""}}}}\n{line}\n{{{{end}}}}\n'


_HEADER = (
    "\n"
    + _setting("log_level", ":info")
    + _setting("log_location", "STDOUT")
    + _setting("chef_server_url", '"{{.ServerUrl}}"')
    + _setting("client_key", '"{{.ClientKey}}"')
)
_TAIL = _when_set("SslVerifyMode", "ssl_verify_mode :{{.SslVerifyMode}}") + _when_set(
    "TrustedCertsDir", 'trusted_certs_dir "{{.TrustedCertsDir}}"'
)
#: client.rb's default template; renders to the bytes Packer 1.6.6's does (blank lines included)
DEFAULT_CONFIG_TEMPLATE = (
    _HEADER
    + _setting("chef_license", '"{{.ChefLicense}}"')
    + _when_set("EncryptedDataBagSecretPath", 'encrypted_data_bag_secret "{{.EncryptedDataBagSecretPath}}"')
    + '{{if ne .ValidationClientName ""}}\nvalidation_client_name "{{.ValidationClientName}}"\n'
    + '{{else}}\nvalidation_client_name "chef-validator"\n{{end}}\n'
    + _when_set("ValidationKeyPath", 'validation_key "{{.ValidationKeyPath}}"')
    + 'node_name "{{.NodeName}}"\n'
    + _when_set("ChefEnvironment", 'environment "{{.ChefEnvironment}}"')
    + _when_set("PolicyGroup", 'policy_group "{{.PolicyGroup}}"')
    + _when_set("PolicyName", 'policy_name "{{.PolicyName}}"')
    + _TAIL
)
#: knife.rb, written for the cleanup
KNIFE_TEMPLATE = _HEADER + 'node_name "{{.NodeName}}"\n' + _TAIL
_CONFIG_FIELDS = (
    "ChefEnvironment",
    "ChefLicense",
    "ClientKey",
    "EncryptedDataBagSecretPath",
    "NodeName",
    "PolicyGroup",
    "PolicyName",
    "ServerUrl",
    "SslVerifyMode",
    "TrustedCertsDir",
    "ValidationClientName",
    "ValidationKeyPath",
)


@dataclass(frozen=True)
class ChefClientConfig(ChefOptions):
    server_url: str = option("")
    client_key: str = option("")
    elevated_user: str = option("")
    elevated_password: str = option("")
    knife_command: str = option("", render=False)
    node_name: str = option("")
    policy_group: str = option("")
    policy_name: str = option("")
    skip_clean_client: bool = option(False)
    skip_clean_node: bool = option(False)
    skip_clean_staging_directory: bool = option(False)
    ssl_verify_mode: str = option("")
    trusted_certs_dir: str = option("")
    validation_client_name: str = option("")
    validation_key_path: str = option("")

    def check_options(self) -> Iterator[str]:
        yield from self.check_config_template()
        if not self.server_url:
            yield "server_url must be set"
        yield from self.check_secret()
        if bool(self.policy_name) != bool(self.policy_group):
            yield "If either policy_name or policy_group are set, they must both be set."
        if self.elevated_user:
            yield "elevated_user: the Windows elevated runner is not supported by imagesmith yet"


def make_knife_args(action: str, node: str, knife_rb: str) -> dict[str, str]:
    """The ``.Args`` and ``.Flags`` of one knife cleanup call (``node delete N``, ``-y -c knife.rb``)."""
    return {"Args": f"{action} delete {node}", "Flags": f"-y -c {knife_rb}"}


class ChefClientProvisioner(ChefProvisioner):
    type_name = "chef-client"
    config_class = ChefClientConfig
    unix_execute = UNIX_EXECUTE
    windows_execute = WINDOWS_EXECUTE
    staging_defaults = STAGING
    show_install_command = True

    def __init__(self, config: ChefClientConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        self.knife_command = config.knife_command or (WINDOWS_KNIFE if config.os_type == WINDOWS else UNIX_KNIFE)

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the chef-client provisioner needs a communicator; this build has none")
        c = self.config
        node = c.node_name or f"packer-{time_ordered_uuid()}"
        if not c.skip_install:
            await with_prefix("Error installing Chef", self.install_chef(ui, comm))
        await with_prefix("Error creating staging directory", create_dir(ui, comm, self.guest, self.staging))
        try:
            await self._run(ui, comm, node)
        except asyncio.CancelledError:
            # Ctrl-C: the staging directory holds the validation key; it must not stay on the machine.
            if not c.skip_clean_staging_directory:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CANCEL_CLEANUP_TIMEOUT):
                        await remove_staging(ui, comm, self.guest, self.staging)
            raise

    async def _run(self, ui: Ui, comm: Communicator, node: str) -> None:
        """Everything after the staging directory exists: keys, client.rb, chef-client, knife, cleanup."""
        c = self.config
        fields = dict.fromkeys(_CONFIG_FIELDS, "")
        fields.update(NodeName=node, ServerUrl=c.server_url, ClientKey=c.client_key or f"{self.staging}/client.pem")
        if c.encrypted_data_bag_secret_path:
            fields["EncryptedDataBagSecretPath"] = f"{self.staging}/encrypted_data_bag_secret"
            await with_prefix(
                "Error uploading encrypted data bag secret",
                self._upload(ui, comm, fields["EncryptedDataBagSecretPath"], c.encrypted_data_bag_secret_path),
            )
        if c.validation_key_path:
            fields["ValidationKeyPath"] = f"{self.staging}/validation.pem"
            local_key = os.path.expanduser(c.validation_key_path)
            await with_prefix(
                "Error copying validation key", self._upload(ui, comm, fields["ValidationKeyPath"], local_key)
            )
        fields.update(
            ChefLicense=self.license,
            ValidationClientName=c.validation_client_name,
            ChefEnvironment=c.chef_environment,
            PolicyGroup=c.policy_group,
            PolicyName=c.policy_name,
            SslVerifyMode=c.ssl_verify_mode,
            TrustedCertsDir=c.trusted_certs_dir,
        )
        client_rb = go_join(self.staging, "client.rb")
        await with_prefix("Error creating Chef config file", self._upload_config(ui, comm, client_rb, fields))
        ui.message("Creating JSON attribute file")
        first_boot = go_join(self.staging, "first-boot.json")
        await with_prefix("Error creating JSON attributes", comm.upload(first_boot, make_chef_json(c)))
        status = await self._execute(ui, comm, client_rb, first_boot)
        await self._clean_server(ui, comm, node, fields)
        if status != 0:
            if not c.skip_clean_staging_directory:
                await remove_staging(ui, comm, self.guest, self.staging)
            raise BuildError(f"Error executing Chef: Non-zero exit status: {status}")
        if not c.skip_clean_staging_directory:
            ui.message(f"Removing directory: {self.staging}")
            await run_command(ui, comm, self.guest.remove_dir(self.staging))

    async def _upload(self, ui: Ui, comm: Communicator, remote: str, local: str) -> None:
        """Packer's ``uploadFile``: say which local file goes up; an unreadable file is Go's open error."""
        ui.message(f"Uploading {local}...")
        try:
            content = await asyncio.to_thread(Path(local).read_bytes)
        except OSError as exc:
            raise BuildError(go_path_error("open", local, exc)) from exc
        await comm.upload(remote, content)

    async def _upload_config(self, ui: Ui, comm: Communicator, remote: str, fields: Mapping[str, Any]) -> None:
        ui.message("Creating configuration file 'client.rb'")
        template = DEFAULT_CONFIG_TEMPLATE
        if self.config.config_template:
            try:
                template = await asyncio.to_thread(Path(self.config.config_template).read_text)
            except OSError as exc:
                raise BuildError(go_path_error("open", self.config.config_template, exc)) from exc
        await comm.upload(remote, self.render(template, fields, "client.rb").encode())

    async def _execute(self, ui: Ui, comm: Communicator, client_rb: str, first_boot: str) -> int:
        fields = {"ConfigPath": client_rb, "JsonPath": first_boot, "Sudo": not self.config.prevent_sudo}
        command = self.render(self.execute_command, fields, "execute_command")
        ui.message(f"Executing Chef: {command}")
        return await run_command(ui, comm, command)

    async def _clean_server(self, ui: Ui, comm: Communicator, node: str, fields: Mapping[str, str]) -> None:
        """Write knife.rb and delete the node, then the client, from the Chef server (each unless skipped)."""
        c = self.config
        if c.skip_clean_node and c.skip_clean_client:
            return
        ui.message("Creating configuration file 'knife.rb'")
        knife_rb = go_join(self.staging, "knife.rb")
        content = self.render(KNIFE_TEMPLATE, fields, "knife.rb").encode()
        await with_prefix("Error creating knife config on node", comm.upload(knife_rb, content))
        for action, skip in (("node", c.skip_clean_node), ("client", c.skip_clean_client)):
            if not skip:
                ui.say(f"Cleaning up chef {action}...")
                work = self._knife(ui, comm, make_knife_args(action, node, knife_rb))
                await with_prefix(f"Error cleaning up chef {action}: Failed to cleanup {action}", work)

    async def _knife(self, ui: Ui, comm: Communicator, args: Mapping[str, str]) -> None:
        command = self.render(self.knife_command, {"Sudo": not self.config.prevent_sudo, **args}, "knife_command")
        if await run_command(ui, comm, command) != 0:
            raise BuildError(f"Non-zero exit status. See output above for more info.\n\nCommand: {command}")

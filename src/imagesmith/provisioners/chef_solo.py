"""The chef-solo provisioner (Packer 1.6.6 ``provisioner/chef-solo``): chef-solo with local cookbooks.

Unless ``skip_install``, ``install_command`` runs first (default: the omnitruck installer through
curl; ``chef_license`` then defaults to ``accept-silent``). The staging directory (default
``/tmp/packer-chef-solo``) receives ``cookbooks-<i>/``, ``roles/``, ``data_bags/``,
``encrypted_data_bag_secret``, ``environments/``, then ``solo.rb`` (from ``config_template`` or the
default template below) and ``node.json`` (``json`` plus ``run_list``, two-space indented with sorted
keys, as Go's ``json.MarshalIndent``). Then ``execute_command`` runs. Both files come out byte for
byte as Packer writes them for the same input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import (
    UNIX,
    WINDOWS,
    GuestCommands,
    GuestOsOptions,
    create_dir,
    encode_go_json_indent,
    render_runtime,
    run_command,
    stat_error,
    upload_dir_contents,
    upload_file,
    with_prefix,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

UNIX_EXECUTE = "{{if .Sudo}}sudo {{end}}chef-solo --no-color -c {{.ConfigPath}} -j {{.JsonPath}}"
UNIX_INSTALL = (
    "curl -L https://omnitruck.chef.io/install.sh | {{if .Sudo}}sudo {{end}}bash -s --"
    "{{if .Version}} -v {{.Version}}{{end}}"
)
WINDOWS_EXECUTE = "c:/opscode/chef/bin/chef-solo.bat --no-color -c {{.ConfigPath}} -j {{.JsonPath}}"
WINDOWS_INSTALL = (
    'powershell.exe -Command ". { iwr -useb https://omnitruck.chef.io/install.ps1 } | iex; '
    'Install-Project{{if .Version}} -version {{.Version}}{{end}}"'
)
STAGING = {UNIX: "/tmp/packer-chef-solo", WINDOWS: "C:/Windows/Temp/packer-chef-solo"}


def _optional(flag: str, *lines: str) -> str:
    """A block of solo.rb lines kept only when ``flag`` holds; the ``{{if}}``/``{{end}}`` lines stay blank."""
    return f"{{{{if .{flag}}}}}\n" + "".join(line + "\n" for line in lines) + "{{end}}\n"


#: solo.rb's default template. Packer's has a blank line in front and one where each
#: ``{{if}}`` and ``{{end}}`` stands; this one renders to the same bytes.
DEFAULT_CONFIG_TEMPLATE = (
    "\n"
    'chef_license \t\t"{{.ChefLicense}}"\n'
    "cookbook_path \t[{{.CookbookPaths}}]\n"
    + _optional("HasRolesPath", 'role_path\t\t"{{.RolesPath}}"')
    + _optional("HasDataBagsPath", 'data_bag_path\t"{{.DataBagsPath}}"')
    + _optional("HasEncryptedDataBagSecretPath", 'encrypted_data_bag_secret "{{.EncryptedDataBagSecretPath}}"')
    + _optional("HasEnvironmentsPath", 'environment_path "{{.EnvironmentsPath}}"', 'environment "{{.ChefEnvironment}}"')
)


@dataclass(frozen=True)
class ChefSoloConfig(GuestOsOptions):
    chef_environment: str = option("")
    chef_license: str = option("")
    config_template: str = option("")
    cookbook_paths: list[str] = option(factory=list)
    roles_path: str = option("")
    data_bags_path: str = option("")
    encrypted_data_bag_secret_path: str = option("")
    environments_path: str = option("")
    execute_command: str = option("", render=False)
    install_command: str = option("", render=False)
    remote_cookbook_paths: list[str] = option(factory=list)
    json: dict[str, Any] = option(factory=dict)
    prevent_sudo: bool = option(False)
    run_list: list[str] = option(factory=list)
    skip_install: bool = option(False)
    staging_directory: str = option("")
    guest_os_type: str = option("")
    version: str = option("")

    def check_options(self) -> Iterator[str]:
        if self.config_template:
            err, is_dir = stat_error(self.config_template)
            if err:
                yield f"Bad config template path: {err}"
            elif is_dir:
                yield f"Config template path must be a file: {self.config_template}"
        for path in self.cookbook_paths:
            yield from _check_dir(path, "cookbook path")
        for path, what in ((self.roles_path, "roles path"), (self.data_bags_path, "data bags path")):
            if path:
                yield from _check_dir(path, what)
        if self.encrypted_data_bag_secret_path:
            err, is_dir = stat_error(self.encrypted_data_bag_secret_path)
            if err or is_dir:
                why = err or "is a directory"
                yield f"Bad encrypted data bag secret '{self.encrypted_data_bag_secret_path}': {why}"
        if self.environments_path:
            yield from _check_dir(self.environments_path, "environments path")


def _check_dir(path: str, what: str) -> Iterator[str]:
    err, is_dir = stat_error(path)
    if err or not is_dir:
        yield f"Bad {what} '{path}': {err or 'not a directory'}"


def make_node_json(config: ChefSoloConfig) -> bytes:
    """node.json: ``json`` with ``run_list`` set when given, as Go's ``json.MarshalIndent(v, "", "  ")``."""
    data = dict(config.json)
    if config.run_list:
        data["run_list"] = list(config.run_list)
    return encode_go_json_indent(data).encode()


class ChefSoloProvisioner(Provisioner):
    type_name = "chef-solo"
    config_class = ChefSoloConfig

    def __init__(self, config: ChefSoloConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        windows = config.os_type == WINDOWS
        default_install = WINDOWS_INSTALL if windows else UNIX_INSTALL
        self.guest = GuestCommands(config.os_type, sudo=not config.prevent_sudo)
        self.execute_command = config.execute_command or (WINDOWS_EXECUTE if windows else UNIX_EXECUTE)
        self.install_command = config.install_command or default_install
        self.staging = config.staging_directory or STAGING[config.os_type]
        self.license = config.chef_license
        if not config.skip_install and self.install_command == default_install and not self.license:
            self.license = "accept-silent"

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the chef-solo provisioner needs a communicator; this build has none")
        c = self.config
        ui.say("Provisioning with chef-solo")
        if not c.skip_install:
            await with_prefix("Error installing Chef", self._install(ui, comm))
        await with_prefix("Error creating staging directory", create_dir(ui, comm, self.guest, self.staging))
        paths = await self._upload(ui, comm)
        ui.message("Creating configuration file 'solo.rb'")
        solo_rb = f"{self.staging}/solo.rb"
        await with_prefix("Error creating Chef config file", self._upload_config(comm, solo_rb, paths))
        ui.message("Creating JSON attribute file")
        node_json = f"{self.staging}/node.json"
        await with_prefix("Error creating JSON attributes", comm.upload(node_json, make_node_json(c)))
        await with_prefix("Error executing Chef", self._execute(ui, comm, solo_rb, node_json))

    async def _install(self, ui: Ui, comm: Communicator) -> None:
        ui.message("Installing Chef...")
        fields = {"Sudo": not self.config.prevent_sudo, "Version": self.config.version}
        status = await run_command(ui, comm, self._render(self.install_command, fields, "install_command"))
        if status != 0:
            raise BuildError(f"Install script exited with non-zero exit status {status}")

    async def _upload(self, ui: Ui, comm: Communicator) -> dict[str, Any]:
        """Upload cookbooks, roles, data bags, the secret and environments; return solo.rb's fields."""
        c = self.config
        cookbooks = []
        for i, path in enumerate(c.cookbook_paths):
            target = f"{self.staging}/cookbooks-{i}"
            await with_prefix("Error uploading cookbooks", upload_dir_contents(ui, comm, self.guest, target, path))
            cookbooks.append(target)
        fields: dict[str, Any] = {}
        for key, src, name, what in (
            ("RolesPath", c.roles_path, "roles", "roles"),
            ("DataBagsPath", c.data_bags_path, "data_bags", "data bags"),
            ("EncryptedDataBagSecretPath", c.encrypted_data_bag_secret_path, "encrypted_data_bag_secret", ""),
            ("EnvironmentsPath", c.environments_path, "environments", "environments"),
        ):
            target = f"{self.staging}/{name}" if src else ""
            if src and what:
                await with_prefix(f"Error uploading {what}", upload_dir_contents(ui, comm, self.guest, target, src))
            elif src:
                await with_prefix("Error uploading encrypted data bag secret", upload_file(comm, target, src))
            fields[key] = target
            fields[f"Has{key}"] = bool(target)
        quoted = [f'"{p}"' for p in [*c.remote_cookbook_paths, *cookbooks]]
        fields.update(CookbookPaths=",".join(quoted), ChefEnvironment=c.chef_environment, ChefLicense=self.license)
        return fields

    async def _upload_config(self, comm: Communicator, remote: str, fields: Mapping[str, Any]) -> None:
        template = DEFAULT_CONFIG_TEMPLATE
        if self.config.config_template:
            try:
                template = await asyncio.to_thread(Path(self.config.config_template).read_text)
            except OSError as exc:
                raise BuildError(str(exc)) from exc
        await comm.upload(remote, self._render(template, fields, "solo.rb").encode())

    async def _execute(self, ui: Ui, comm: Communicator, solo_rb: str, node_json: str) -> None:
        fields = {"ConfigPath": solo_rb, "JsonPath": node_json, "Sudo": not self.config.prevent_sudo}
        command = self._render(self.execute_command, fields, "execute_command")
        ui.message(f"Executing Chef: {command}")
        status = await run_command(ui, comm, command)
        if status != 0:
            raise BuildError(f"Non-zero exit status: {status}")

    def _render(self, text: str, fields: Mapping[str, Any], what: str) -> str:
        """The one place this provisioner renders templates at run time."""
        return render_runtime(text, fields, self.info, what)

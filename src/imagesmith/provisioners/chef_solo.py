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

from imagesmith.core.plugin import Communicator
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import (
    UNIX,
    WINDOWS,
    ChefOptions,
    ChefProvisioner,
    create_dir,
    make_chef_json,
    run_command,
    stat_error,
    upload_dir_contents,
    upload_file,
    with_prefix,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

UNIX_EXECUTE = "{{if .Sudo}}sudo {{end}}chef-solo --no-color -c {{.ConfigPath}} -j {{.JsonPath}}"
WINDOWS_EXECUTE = "c:/opscode/chef/bin/chef-solo.bat --no-color -c {{.ConfigPath}} -j {{.JsonPath}}"
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
class ChefSoloConfig(ChefOptions):
    cookbook_paths: list[str] = option(factory=list)
    roles_path: str = option("")
    data_bags_path: str = option("")
    environments_path: str = option("")
    remote_cookbook_paths: list[str] = option(factory=list)

    def check_options(self) -> Iterator[str]:
        yield from self.check_config_template()
        for path in self.cookbook_paths:
            yield from _check_dir(path, "cookbook path")
        for path, what in ((self.roles_path, "roles path"), (self.data_bags_path, "data bags path")):
            if path:
                yield from _check_dir(path, what)
        yield from self.check_secret()
        if self.environments_path:
            yield from _check_dir(self.environments_path, "environments path")


def _check_dir(path: str, what: str) -> Iterator[str]:
    err, is_dir = stat_error(path)
    if err or not is_dir:
        yield f"Bad {what} '{path}': {err or 'not a directory'}"


class ChefSoloProvisioner(ChefProvisioner):
    type_name = "chef-solo"
    config_class = ChefSoloConfig
    unix_execute = UNIX_EXECUTE
    windows_execute = WINDOWS_EXECUTE
    staging_defaults = STAGING

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the chef-solo provisioner needs a communicator; this build has none")
        c = self.config
        ui.say("Provisioning with chef-solo")
        if not c.skip_install:
            await with_prefix("Error installing Chef", self.install_chef(ui, comm))
        await with_prefix("Error creating staging directory", create_dir(ui, comm, self.guest, self.staging))
        paths = await self._upload(ui, comm)
        ui.message("Creating configuration file 'solo.rb'")
        solo_rb = f"{self.staging}/solo.rb"
        await with_prefix("Error creating Chef config file", self._upload_config(comm, solo_rb, paths))
        ui.message("Creating JSON attribute file")
        node_json = f"{self.staging}/node.json"
        await with_prefix("Error creating JSON attributes", comm.upload(node_json, make_chef_json(c)))
        await with_prefix("Error executing Chef", self._execute(ui, comm, solo_rb, node_json))

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
        await comm.upload(remote, self.render(template, fields, "solo.rb").encode())

    async def _execute(self, ui: Ui, comm: Communicator, solo_rb: str, node_json: str) -> None:
        fields = {"ConfigPath": solo_rb, "JsonPath": node_json, "Sudo": not self.config.prevent_sudo}
        command = self.render(self.execute_command, fields, "execute_command")
        ui.message(f"Executing Chef: {command}")
        status = await run_command(ui, comm, command)
        if status != 0:
            raise BuildError(f"Non-zero exit status: {status}")

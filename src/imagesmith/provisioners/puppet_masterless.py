"""The puppet-masterless provisioner (Packer 1.6.6 ``provisioner/puppet-masterless``): ``puppet apply``.

Staging (default ``/tmp/packer-puppet-masterless``, made with ``mkdir -p`` and ``chmod 0777``):
``hiera.yaml`` (``hiera_config_path``), ``manifests/`` (``manifest_dir``), ``module-<i>/`` (each of
``module_paths``) and ``manifests/<file>`` (``manifest_file``; a directory is uploaded whole). Then
``execute_command`` runs (rendered with ``.WorkingDir``, ``.FacterVars``, ``.Sudo``, ``.PuppetBinDir``,
``.ModulePath``, ``.HieraConfigPath``, ``.ManifestDir``, ``.ExtraArguments``, ``.ManifestFile``);
``puppet apply --detailed-exitcodes`` exits 0 (no changes) or 2 (changes) on success.

Facts: ``facter`` plus ``packer_build_name`` and ``packer_builder_type``, as ``FACTER_k='v'``; sorted
by name here (Packer's order is a Go map's, i.e. random).
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
    upload_file,
    with_prefix,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

_COMMAND_TAIL = (
    "puppet apply --detailed-exitcodes "
    "{{if .Debug}}--debug {{end}}"
    "{{if ne .ModulePath \"\"}}--modulepath='{{.ModulePath}}' {{end}}"
    "{{if ne .HieraConfigPath \"\"}}--hiera_config='{{.HieraConfigPath}}' {{end}}"
    "{{if ne .ManifestDir \"\"}}--manifestdir='{{.ManifestDir}}' {{end}}"
    '{{if ne .ExtraArguments ""}}{{.ExtraArguments}} {{end}}'
    "{{.ManifestFile}}"
)
UNIX_EXECUTE_COMMAND = (
    'cd {{.WorkingDir}} && {{if ne .FacterVars ""}}{{.FacterVars}} {{end}}{{if .Sudo}}sudo -E {{end}}'
    '{{if ne .PuppetBinDir ""}}{{.PuppetBinDir}}/{{end}}' + _COMMAND_TAIL
)
WINDOWS_EXECUTE_COMMAND = (
    'cd {{.WorkingDir}} && {{if ne .FacterVars ""}}{{.FacterVars}} && {{end}}'
    '{{if ne .PuppetBinDir ""}}{{.PuppetBinDir}}/{{end}}' + _COMMAND_TAIL
)


@dataclass(frozen=True)
class OsDefaults:
    """Per guest OS: staging directory, command, and how facts and module paths are joined."""

    staging_dir: str
    execute_command: str
    facter_format: str
    facter_joiner: str
    module_path_joiner: str


def os_defaults(os_type: str) -> OsDefaults:
    if os_type == WINDOWS:
        # Packer reads the *host's* SYSTEMROOT here (its own FIXME); so does imagesmith, for the same result.
        root = os.environ.get("SYSTEMROOT", "").replace("\\", "/")
        return OsDefaults(
            f"{root}/Temp/packer-puppet-masterless", WINDOWS_EXECUTE_COMMAND, 'SET "FACTER_{}={}"', " & ", ";"
        )
    return OsDefaults("/tmp/packer-puppet-masterless", UNIX_EXECUTE_COMMAND, "FACTER_{}='{}'", " ", ":")


@dataclass(frozen=True)
class PuppetMasterlessConfig(GuestOsOptions):
    manifest_file: str = option("")
    manifest_dir: str = option("")
    module_paths: list[str] = option(factory=list)
    hiera_config_path: str = option("")
    facter: dict[str, str] = option(factory=dict)
    execute_command: str = option("", render=False)
    extra_arguments: list[str] = option(factory=list, render=False)
    guest_os_type: str = option("")
    prevent_sudo: bool = option(False)
    ignore_exit_codes: bool = option(False)
    puppet_bin_dir: str = option("")
    staging_directory: str = option("")
    clean_staging_directory: bool = option(False)
    working_directory: str = option("")
    elevated_user: str = option("")
    elevated_password: str = option("")

    def check_options(self) -> Iterator[str]:
        if self.elevated_user:
            yield "elevated_user: the Windows elevated runner is not supported by imagesmith yet"
        if self.hiera_config_path:
            err, is_dir = stat_error(self.hiera_config_path)
            if err or is_dir:
                yield f"hiera_config_path is invalid: {err}" if err else "hiera_config_path must point to a file"
        if self.manifest_dir:
            err, is_dir = stat_error(self.manifest_dir)
            if err or not is_dir:
                yield f"manifest_dir is invalid: {err}" if err else "manifest_dir must point to a directory"
        if not self.manifest_file:
            yield "A manifest_file must be specified."
        elif (err := stat_error(self.manifest_file)[0]) is not None:
            yield f"manifest_file is invalid: {err}"
        for i, path in enumerate(self.module_paths):
            err, is_dir = stat_error(path)
            if err or not is_dir:
                yield f"module_path[{i}] is invalid: {err}" if err else f"module_path[{i}] must point to a directory"


class PuppetMasterlessProvisioner(Provisioner):
    type_name = "puppet-masterless"
    config_class = PuppetMasterlessConfig

    def __init__(self, config: PuppetMasterlessConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        self.defaults = os_defaults(config.os_type)
        self.guest = GuestCommands(config.os_type, sudo=not config.prevent_sudo)
        self.staging_dir = config.staging_directory or self.defaults.staging_dir
        self.working_dir = config.working_directory or self.staging_dir
        self.execute_command = config.execute_command or self.defaults.execute_command

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the puppet-masterless provisioner needs a communicator; this build has none")
        ui.say("Provisioning with Puppet...")
        ui.message("Creating Puppet staging directory...")
        try:
            await create_dir(ui, comm, self.guest, self.staging_dir)
        except BuildError as exc:
            raise BuildError(f"Error creating staging directory: {exc}") from exc
        try:
            fields = await self._upload(ui, comm)
            await self._apply(ui, comm, fields)
        except BaseException:
            if self.config.clean_staging_directory:
                await remove_staging(ui, comm, self.guest, self.staging_dir)
            raise
        removed = not self.config.clean_staging_directory or (
            await run_command(ui, comm, self.guest.remove_dir(self.staging_dir)) == 0
        )
        if not removed:
            raise BuildError("Error removing staging directory: Non-zero exit status.")

    async def _upload(self, ui: Ui, comm: Communicator) -> dict[str, Any]:
        """Upload hiera config, manifest dir, modules and manifests; return the command's fields."""
        c = self.config
        hiera = ""
        if c.hiera_config_path:
            ui.message("Uploading hiera configuration...")
            hiera = f"{self.staging_dir}/hiera.yaml"
            await with_prefix("Error uploading hiera config", upload_file(comm, hiera, c.hiera_config_path))
        manifest_dir = ""
        if c.manifest_dir:
            ui.message(f"Uploading manifest directory from: {c.manifest_dir}")
            manifest_dir = f"{self.staging_dir}/manifests"
            await with_prefix(
                "Error uploading manifest dir", upload_dir_contents(ui, comm, self.guest, manifest_dir, c.manifest_dir)
            )
        modules = []
        for i, path in enumerate(c.module_paths):
            ui.message(f"Uploading local modules from: {path}")
            target = f"{self.staging_dir}/module-{i}"
            await with_prefix("Error uploading modules", upload_dir_contents(ui, comm, self.guest, target, path))
            modules.append(target)
        manifest = await self._upload_manifests(ui, comm)
        facts = {**c.facter, "packer_build_name": self.info.build_name, "packer_builder_type": self.info.builder_type}
        return {
            "Debug": False,  # Packer 1.6.6 never sets it
            "ExtraArguments": "",
            "FacterVars": self.defaults.facter_joiner.join(
                self.defaults.facter_format.format(k, v) for k, v in sorted(facts.items())
            ),
            "HieraConfigPath": hiera,
            "ManifestDir": manifest_dir,
            "ManifestFile": manifest,
            "ModulePath": self.defaults.module_path_joiner.join(modules),
            "ModulePathJoiner": self.defaults.module_path_joiner,
            "PuppetBinDir": c.puppet_bin_dir,
            "Sudo": not c.prevent_sudo,
            "WorkingDir": self.working_dir,
        }

    async def _upload_manifests(self, ui: Ui, comm: Communicator) -> str:
        ui.message("Uploading manifests...")
        remote_dir = f"{self.staging_dir}/manifests"
        try:
            await create_dir(ui, comm, self.guest, remote_dir)
        except BuildError as exc:
            raise BuildError(f"Error uploading manifests: Error creating manifests directory: {exc}") from exc
        source = self.config.manifest_file
        if os.path.isdir(source):  # puppet apply takes a directory as well as a file
            ui.message(f"Uploading manifest directory from: {source}")
            await with_prefix(
                "Error uploading manifests: Error uploading manifest dir",
                upload_dir_contents(ui, comm, self.guest, remote_dir, source),
            )
            return remote_dir
        ui.message(f"Uploading manifest file from: {source}")
        remote = f"{remote_dir}/{os.path.basename(source)}"
        await with_prefix("Error uploading manifests", upload_file(comm, remote, source))
        return remote

    async def _apply(self, ui: Ui, comm: Communicator, fields: dict[str, Any]) -> None:
        fields["ExtraArguments"] = self._render(" ".join(self.config.extra_arguments), fields)
        command = self._render(self.execute_command, fields)
        ui.message(f"Running Puppet: {command}")
        status = await run_command(ui, comm, command)
        if status not in (0, 2) and not self.config.ignore_exit_codes:
            raise BuildError(f"Puppet exited with a non-zero exit status: {status}")

    def _render(self, text: str, fields: Mapping[str, Any]) -> str:
        """The one place this provisioner renders templates at run time."""
        return render_runtime(text, fields, self.info, "execute_command")

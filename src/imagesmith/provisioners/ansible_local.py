"""The ansible-local provisioner (Packer 1.6.6 ``provisioner/ansible-local``): ansible-playbook in the guest.

Staging directory: ``staging_directory``, default ``/tmp/packer-provisioner-ansible-local/<uuid>``
(``playbook_dir``'s contents when given). Into it go the playbook (``playbook_file``; each of
``playbook_files`` at the staging dir + its absolute local path), the galaxy file, the inventory
(``inventory_file``, or a generated ``127.0.0.1`` / ``[group]\\n127.0.0.1\\n`` per inventory group),
``group_vars/``, ``host_vars/``, ``roles/<name>/`` and ``playbooks/<name>/``. Then, per playbook::

    cd S && <command> S/<playbook> --extra-vars "packer_build_name=N packer_builder_type=T
        packer_http_addr=A -o IdentitiesOnly=yes" <extra_arguments> -c local -i S/<inventory>

(one line; ``-o IdentitiesOnly=yes`` inside the extra vars is Packer's, kept for the same command).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import (
    GuestCommands,
    create_dir,
    go_join,
    remove_staging,
    run_command,
    stat_error,
    time_ordered_uuid,
    upload_dir_contents,
    upload_file,
    with_prefix,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

DEFAULT_STAGING_DIR = "/tmp/packer-provisioner-ansible-local"
DEFAULT_COMMAND = "ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook"
#: ansible-local runs mkdir and rm without sudo and without chmod
GUEST = GuestCommands(sudo=False)


@dataclass(frozen=True)
class AnsibleLocalConfig:
    command: str = option("")
    extra_arguments: list[str] = option(factory=list)
    group_vars: str = option("")
    host_vars: str = option("")
    playbook_dir: str = option("")
    playbook_file: str = option("")
    playbook_files: list[str] = option(factory=list)
    playbook_paths: list[str] = option(factory=list)
    role_paths: list[str] = option(factory=list)
    staging_directory: str = option("")
    clean_staging_directory: bool = option(False)
    inventory_file: str = option("")
    inventory_groups: list[str] = option(factory=list)
    galaxy_file: str = option("")
    galaxy_command: str = option("")

    def check(self) -> Iterator[str]:
        if self.playbook_files and self.playbook_file:
            yield "Either playbook_file or playbook_files can be specified, not both"
        if not self.playbook_files and not self.playbook_file:
            yield "Either playbook_file or playbook_files must be specified"
        if self.playbook_file:
            yield from _check(self.playbook_file, "playbook_file", want_dir=False)
        for path in self.playbook_files:
            yield from _check(path, "playbook_files", want_dir=False)
        if self.inventory_file:
            yield from _check(self.inventory_file, "inventory_file", want_dir=False)
        if self.galaxy_file:
            yield from _check(self.galaxy_file, "galaxy_file", want_dir=False)
        for path, name in (
            (self.playbook_dir, "playbook_dir"),
            (self.group_vars, "group_vars"),
            (self.host_vars, "host_vars"),
        ):
            if path:
                yield from _check(path, name, want_dir=True)
        for path in self.playbook_paths:
            yield from _check(path, "playbook_paths", want_dir=True)
        for path in self.role_paths:
            yield from _check(path, "role_paths", want_dir=True)


def _check(path: str, name: str, *, want_dir: bool) -> Iterator[str]:
    err, is_dir = stat_error(path)
    if err:
        yield f"{name}: {path} is invalid: {err}"
    elif is_dir != want_dir:
        yield f"{name}: {path} must point to a {'directory' if want_dir else 'file'}"


def make_inventory(groups: list[str]) -> str:
    """The generated inventory: ``127.0.0.1`` (no newline), or each group holding it."""
    return "".join(f"[{g}]\n127.0.0.1\n" for g in groups) if groups else "127.0.0.1"


def make_playbook_command(
    staging: str, command: str, playbook: str, extra_vars: str, extra_arguments: list[str], inventory: str
) -> str:
    extra = f' --extra-vars "{extra_vars} -o IdentitiesOnly=yes" ' + " ".join(extra_arguments)
    return f"cd {staging} && {command} {playbook}{extra} -c local -i {inventory}"


class AnsibleLocalProvisioner(Provisioner):
    type_name = "ansible-local"
    config_class = AnsibleLocalConfig

    def __init__(self, config: AnsibleLocalConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        self.staging = config.staging_directory or go_join(DEFAULT_STAGING_DIR, time_ordered_uuid())
        self.command = config.command or DEFAULT_COMMAND
        self.galaxy_command = config.galaxy_command or "ansible-galaxy"
        self.playbooks = [os.path.abspath(p) for p in config.playbook_files]
        self.inventory = ""

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the ansible-local provisioner needs a communicator; this build has none")
        ui.say("Provisioning with Ansible...")
        c = self.config
        if c.playbook_dir:
            ui.message("Uploading Playbook directory to Ansible staging directory...")
            work = upload_dir_contents(ui, comm, GUEST, self.staging, c.playbook_dir, chmod=False)
            await with_prefix("Error uploading playbook_dir directory", work)
        else:
            ui.message("Creating Ansible staging directory...")
            await with_prefix(
                "Error creating staging directory", create_dir(ui, comm, GUEST, self.staging, chmod=False)
            )
        try:
            playbooks = await self._upload(ui, comm)
            await with_prefix("Error executing Ansible", self._execute(ui, comm, playbooks, data))
        except BaseException:
            if c.clean_staging_directory:
                await remove_staging(ui, comm, GUEST, self.staging)
            raise
        if c.clean_staging_directory:
            ui.message("Removing staging directory...")
            ui.message(f"Removing directory: {self.staging}")
            if await run_command(ui, comm, GUEST.remove_dir(self.staging)) != 0:
                raise BuildError(
                    "Error removing staging directory: Non-zero exit status. See output above for more information."
                )

    async def _upload(self, ui: Ui, comm: Communicator) -> list[str]:
        """Upload everything but the playbook dir; return the remote playbooks to run, in order."""
        c = self.config
        playbooks: list[str] = []
        if c.playbook_file:
            ui.message("Uploading main Playbook file...")
            remote = go_join(self.staging, os.path.basename(c.playbook_file))
            await with_prefix("Error uploading main playbook", upload_file(comm, remote, c.playbook_file))
            playbooks.append(remote)
        else:
            playbooks = await self._upload_playbook_files(ui, comm)
        if c.galaxy_file:
            ui.message("Uploading galaxy file...")
            remote = go_join(self.staging, os.path.basename(c.galaxy_file))
            await with_prefix("Error uploading galaxy file", upload_file(comm, remote, c.galaxy_file))
        self.inventory = await self._upload_inventory(ui, comm)
        for path, name in ((c.group_vars, "group_vars"), (c.host_vars, "host_vars")):
            if path:
                ui.message(f"Uploading {name} directory...")
                work = upload_dir_contents(ui, comm, GUEST, go_join(self.staging, name), path, chmod=False)
                await with_prefix(f"Error uploading {name} directory", work)
        if c.role_paths:
            ui.message("Uploading role directories...")
            for src in c.role_paths:
                dst = go_join(self.staging, "roles", os.path.basename(src.rstrip("/")))
                await with_prefix("Error uploading roles", upload_dir_contents(ui, comm, GUEST, dst, src, chmod=False))
        if c.playbook_paths:
            ui.message("Uploading additional Playbooks...")
            directory = go_join(self.staging, "playbooks")
            await with_prefix("Error creating playbooks directory", create_dir(ui, comm, GUEST, directory, chmod=False))
            for src in c.playbook_paths:
                dst = go_join(directory, os.path.basename(src.rstrip("/")))
                await with_prefix(
                    "Error uploading playbooks", upload_dir_contents(ui, comm, GUEST, dst, src, chmod=False)
                )
        return playbooks

    async def _upload_playbook_files(self, ui: Ui, comm: Communicator) -> list[str]:
        """Each playbook at staging + its absolute local path; those inside playbook_dir are there already."""
        base = os.path.abspath(self.config.playbook_dir) if self.config.playbook_dir else ""
        remote: list[str] = []
        for playbook in self.playbooks:
            if base and playbook.startswith(base):
                remote.append(go_join(self.staging, playbook[len(base) :]))
                continue
            ui.message(f"Uploading playbook file: {playbook}")
            directory = go_join(self.staging, os.path.dirname(playbook))
            target = go_join(self.staging, playbook)
            try:
                await create_dir(ui, comm, GUEST, directory, chmod=False)
            except BuildError as exc:
                raise BuildError(f"Error uploading playbook file: {playbook} [{exc}]") from exc
            try:
                await upload_file(comm, target, playbook)
            except BuildError as exc:
                raise BuildError(f"Error uploading playbook: {playbook} [{exc}]") from exc
            remote.append(target)
        return remote

    async def _upload_inventory(self, ui: Ui, comm: Communicator) -> str:
        """Upload the inventory (the user's, or a generated one named like Go's temp files); return its path."""
        ui.message("Uploading inventory file...")
        if self.config.inventory_file:
            local = self.config.inventory_file
            remote = go_join(self.staging, os.path.basename(local))
            await with_prefix("Error uploading inventory file", upload_file(comm, remote, local))
            return remote
        remote = go_join(self.staging, f"packer-provisioner-ansible-local{random.randrange(10**9):09d}")
        content = make_inventory(self.config.inventory_groups).encode()
        await with_prefix("Error uploading inventory file", comm.upload(remote, content))
        return remote

    async def _execute(self, ui: Ui, comm: Communicator, playbooks: list[str], data: Mapping[str, str]) -> None:
        c = self.config
        http_addr = data.get("PackerHTTPAddr", "%!s(<nil>)")
        extra_vars = (
            f"packer_build_name={self.info.build_name} packer_builder_type={self.info.builder_type} "
            f"packer_http_addr={http_addr}"
        )
        if c.galaxy_file:
            roles = go_join(self.staging, "roles")
            galaxy = go_join(self.staging, os.path.basename(c.galaxy_file))
            command = f"cd {self.staging} && {self.galaxy_command} install -r {galaxy} -p {roles}"
            ui.message(f"Executing Ansible Galaxy: {command}")
            status = await run_command(ui, comm, command)
            if status != 0:
                raise BuildError(f"Error executing Ansible Galaxy: Non-zero exit status: {status}")
        for playbook in playbooks:
            command = make_playbook_command(
                self.staging, self.command, playbook, extra_vars, c.extra_arguments, self.inventory
            )
            ui.message(f"Executing Ansible: {command}")
            status = await run_command(ui, comm, command)
            if status == 127:
                raise BuildError(
                    f"{self.command} could not be found. Verify that it is available on the\n"
                    "PATH after connecting to the machine."
                )
            if status != 0:
                raise BuildError(f"Non-zero exit status: {status}")

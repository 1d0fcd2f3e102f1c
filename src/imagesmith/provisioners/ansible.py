"""The ansible provisioner (Packer 1.6.6 ``provisioner/ansible``): ansible-playbook on this machine.

Unless ``use_proxy`` is false (and the build has an SSH guest with an address), ansible connects to an
SSH proxy on 127.0.0.1 (:mod:`.ansible_proxy`) that relays to the build's communicator. The
inventory is a temp file ``packer-provisioner-ansible*`` (in ``inventory_directory`` or ``$TMPDIR``)::

    default ansible_host=127.0.0.1 ansible_user=U ansible_port=P
    [group]
    default ansible_host=127.0.0.1 ansible_user=U ansible_port=P
    [empty_group]

then, after ``ansible-galaxy`` for ``galaxy_file``::

    ansible-playbook -e packer_build_name="N" -e packer_builder_type=T [-e packer_http_addr=A]
        [--ssh-extra-args '-o IdentitiesOnly=yes'] <extra_arguments>
        [-e ansible_ssh_private_key_file=K] -i INVENTORY /abs/playbook

with ``ansible_env_vars`` plus ``ANSIBLE_HOST_KEY_CHECKING=False`` (no ``ssh_host_key_file``) and
``ANSIBLE_SCP_IF_SSH=True`` (no ``use_sftp``). The inventory (unless ``keep_inventory_file``), the
generated key and the proxy's port are gone when the provisioner ends, failed or interrupted.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass

from imagesmith.core.generated import HTTP_ADDR_NOT_IMPLEMENTED
from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import render_runtime, stat_error
from imagesmith.template.decode import option
from imagesmith.ui import Ui

INVENTORY_LINE = "{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\n"
INVENTORY_LINE_V1 = (
    "{{ .HostAlias }} ansible_ssh_host={{ .Host }} ansible_ssh_user={{ .User }} ansible_ssh_port={{ .Port }}\n"
)
WINRM_INVENTORY_LINE = (
    "{{ .HostAlias}} ansible_host={{ .Host }} ansible_connection=winrm ansible_winrm_transport=basic "
    "ansible_shell_type=powershell ansible_user={{ .User}} ansible_port={{ .Port }}\n"
)


@dataclass(frozen=True)
class AnsibleConfig:
    command: str = option("")
    extra_arguments: list[str] = option(factory=list)
    ansible_env_vars: list[str] = option(factory=list)
    playbook_file: str = option("")
    ansible_ssh_extra_args: list[str] = option(factory=list)
    groups: list[str] = option(factory=list)
    empty_groups: list[str] = option(factory=list)
    host_alias: str = option("")
    user: str = option("")
    local_port: int = option(0)
    ssh_host_key_file: str = option("")
    ssh_authorized_key_file: str = option("")
    sftp_command: str = option("")
    skip_version_check: bool = option(False)
    use_sftp: bool = option(False)
    inventory_directory: str = option("")
    inventory_file_template: str = option("", render=False)
    inventory_file: str = option("")
    keep_inventory_file: bool = option(False)
    galaxy_file: str = option("")
    galaxy_command: str = option("")
    galaxy_force_install: bool = option(False)
    roles_path: str = option("")
    collections_path: str = option("")
    use_proxy: bool | None = option(None)

    def check(self) -> Iterator[str]:
        if not self.playbook_file:
            yield "playbook_file must be specified."
        else:
            yield from _check_file(self.playbook_file, "playbook_file")
        for path, name in (
            (self.galaxy_file, "galaxy_file"),
            (self.ssh_authorized_key_file, "ssh_authorized_key_file"),
            (self.ssh_host_key_file, "ssh_host_key_file"),
        ):
            if path:
                yield from _check_file(path, name)
        if self.local_port > 65535:
            yield f"local_port: {self.local_port} must be a valid port"
        if self.inventory_directory:
            err, is_dir = stat_error(self.inventory_directory)
            if err:
                yield f"inventory_directory: {self.inventory_directory} is invalid: {err}"
            elif not is_dir:
                yield f"inventory_directory: {self.inventory_directory} must point to a directory"


def _check_file(path: str, name: str) -> Iterator[str]:
    err, is_dir = stat_error(path)
    if err:
        yield f"{name}: {path} is invalid: {err}"
    elif is_dir:
        yield f"{name}: {path} must point to a file"


def go_quote(text: str) -> str:
    """Go's ``%q`` for the build name (``"name"``, with ``\\`` and ``"`` escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("\\/", "/")


def has_arg(name: str, args: Sequence[str]) -> bool:
    """Packer's ``checkArg``: ``name`` is one of the ``=``-separated parts of some argument."""
    return any(name in arg.split("=") for arg in args)


def make_inventory(host_line: str, groups: Sequence[str], empty_groups: Sequence[str]) -> str:
    """The generated inventory: the host line, each group holding it, each empty group bare."""
    return host_line + "".join(f"[{g}]\n{host_line}" for g in groups) + "".join(f"[{g}]\n" for g in empty_groups)


@dataclass(frozen=True)
class Invocation:
    """What ``make_playbook_args`` needs to know about this run."""

    build_name: str
    builder_type: str
    http_addr: str
    conn_type: str
    key_file: str
    inventory: str
    playbook: str
    use_proxy: bool
    password: str = ""


def make_playbook_args(c: AnsibleConfig, run: Invocation) -> list[str]:
    """ansible-playbook's arguments, in Packer 1.6.6's order (``createCmdArgs``)."""
    args = ["-e", f"packer_build_name={go_quote(run.build_name)}"] if run.build_name else []
    args += ["-e", f"packer_builder_type={run.builder_type}"]
    if run.http_addr != HTTP_ADDR_NOT_IMPLEMENTED:
        args += ["-e", f"packer_http_addr={run.http_addr}"]
    if run.conn_type == "ssh" and run.key_file:
        extra = "".join(c.ansible_ssh_extra_args) or "-o IdentitiesOnly=yes"
        args += ["--ssh-extra-args", f"'{extra}'"]
    args += c.extra_arguments
    if not has_arg("ansible_password", args) and not run.use_proxy and run.conn_type == "winrm":
        args += ["-e", f"ansible_password={run.password}"]
    if not has_arg("ansible_password", args) and run.key_file:
        args += ["-e", f"ansible_ssh_private_key_file={run.key_file}"]
    if has_arg("ansible_password", args) and run.conn_type == "ssh" and not has_arg("ansible_host_key_checking", args):
        args += ["-e", "ansible_host_key_checking=False"]
    return [*args, "-i", run.inventory, run.playbook]


def make_env(c: AnsibleConfig) -> dict[str, str]:
    """``ansible_env_vars`` and Packer's additions; a later ``K=`` wins, as in Go's exec."""
    entries = list(c.ansible_env_vars)
    if not c.ssh_host_key_file:
        entries.append("ANSIBLE_HOST_KEY_CHECKING=False")
    if not c.use_sftp:
        entries.append("ANSIBLE_SCP_IF_SSH=True")
    env: dict[str, str] = {}
    for entry in entries:
        key, _, value = entry.partition("=")
        env[key] = value
    return env


def make_galaxy_args(c: AnsibleConfig, requirements: str) -> list[list[str]]:
    """The ``ansible-galaxy`` runs for ``galaxy_file``: roles (v1 file or ``roles:``), then ``collections:``."""
    roles = ["install", "-r", c.galaxy_file]
    collections = ["collection", "install", "-r", c.galaxy_file]
    if c.galaxy_force_install:
        roles.append("-f")
        collections.append("-f")
    if c.roles_path:
        roles += ["-p", c.roles_path]
    if c.collections_path:
        collections += ["-p", c.collections_path]
    has_roles = re.search(r"(?m)^roles:", requirements) is not None
    has_collections = re.search(r"(?m)^collections:", requirements) is not None
    return ([roles] if has_roles or not has_collections else []) + ([collections] if has_collections else [])


class AnsibleProvisioner(Provisioner):
    type_name = "ansible"
    config_class = AnsibleConfig

    def __init__(self, config: AnsibleConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        self.command = config.command or "ansible-playbook"
        self.user = config.user
        self.major_version = 2

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        from imagesmith.provisioners.ansible_run import connect, version_of

        if comm is None:
            raise BuildError("the ansible provisioner needs a communicator; this build has none")
        ui.say("Provisioning with Ansible...")
        c = self.config
        if not c.skip_version_check:
            self.major_version = await version_of(self.command)
        if not self.user:
            self.user = _current_user()
        async with connect(self, ui, comm, data) as (use_proxy, port, key_file):
            await self._run(ui, data, use_proxy, port, key_file)

    async def _run(self, ui: Ui, data: Mapping[str, str], use_proxy: bool, port: int, key_file: str) -> None:
        """Write the inventory, run galaxy and the playbook (the proxy, if any, is up)."""
        from imagesmith.provisioners.ansible_run import run_galaxy, run_playbook

        c = self.config
        async with self._inventory(data, use_proxy, port) as inventory:
            if c.galaxy_file:
                await run_galaxy(ui, c)
            run = Invocation(
                build_name=self.info.build_name,
                builder_type=self.info.builder_type,
                http_addr=data.get("PackerHTTPAddr", HTTP_ADDR_NOT_IMPLEMENTED),
                conn_type=data.get("ConnType", ""),
                key_file=key_file,
                inventory=inventory,
                playbook=os.path.abspath(c.playbook_file),
                use_proxy=use_proxy,
                password=data.get("Password", ""),
            )
            masked = [v for v in (data.get("WinRMPassword", ""), data.get("Password", "")) if v]
            await run_playbook(ui, self.command, make_playbook_args(c, run), make_env(c), masked)

    @contextlib.asynccontextmanager
    async def _inventory(self, data: Mapping[str, str], use_proxy: bool, port: int) -> AsyncIterator[str]:
        """The user's ``inventory_file``, or a generated one removed afterwards (unless kept)."""
        c = self.config
        if c.inventory_file:
            yield c.inventory_file
            return
        template = c.inventory_file_template or (INVENTORY_LINE if self.major_version >= 2 else INVENTORY_LINE_V1)
        if not c.inventory_file_template and use_proxy is False and data.get("ConnType") == "winrm":
            template = WINRM_INVENTORY_LINE
        fields = {**data, "HostAlias": c.host_alias or "default", "User": self.user}
        if use_proxy:
            fields |= {"Host": "127.0.0.1", "Port": str(port)}
        try:
            line = render_runtime(template, fields, self.info, "inventory file template")
        except BuildError as exc:
            raise BuildError(f"Error generating inventory file from template: {exc}") from exc
        fd, path = tempfile.mkstemp(prefix="packer-provisioner-ansible", dir=c.inventory_directory or None)
        if c.inventory_directory:  # Go's TempFile keeps the directory as given (relative stays relative)
            path = os.path.join(c.inventory_directory, os.path.basename(path))
        try:
            with os.fdopen(fd, "w") as out:
                out.write(make_inventory(line, c.groups, c.empty_groups))
            yield path
        finally:
            if not c.keep_inventory_file:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:
        raise BuildError("user: could not determine current user from environment.") from exc


def mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "*****")
    return text

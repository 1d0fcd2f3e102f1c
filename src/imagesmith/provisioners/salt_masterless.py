"""The salt-masterless provisioner (Packer 1.6.6 ``provisioner/salt-masterless``): ``salt-call --local``.

Unless ``skip_bootstrap``, the salt bootstrap script is fetched (curl, else wget: this needs the
internet) and run with ``bootstrap_args``; its exit status is not checked, as in Packer. Then:
``temp_config_dir`` (``/tmp/salt``) is made; ``minion_config`` and ``grains_file`` are uploaded to a
relative name, moved into the temp dir, then into ``/etc/salt``; ``local_state_tree`` and
``local_pillar_roots`` go the same way to ``/srv/salt`` and ``/srv/pillar`` (or ``remote_state_tree``
/ ``remote_pillar_roots``). Moves are ``sudo sudo mv`` (Packer prefixes sudo twice). The tree is
removed before the move only when ``stat`` *fails* on it (Packer's inverted test, kept for the
same result: an existing ``/srv/salt`` receives the tree as ``/srv/salt/states``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.cm_common import (
    WINDOWS,
    GuestCommands,
    GuestOsOptions,
    go_join,
    run_command,
    stat_error,
)
from imagesmith.template.decode import option
from imagesmith.ui import Ui

_FORMULA_URL = re.compile(r"^(.*).git\/\/[a-zA-Z0-9-_]+(\?.*)?$")


@dataclass(frozen=True)
class SaltPaths:
    config_dir: str
    temp_dir: str
    state_root: str
    pillar_root: str
    bootstrap_fetch: str
    bootstrap_run: str


UNIX_PATHS = SaltPaths(
    "/etc/salt",
    "/tmp/salt",
    "/srv/salt",
    "/srv/pillar",
    "curl -L https://bootstrap.saltstack.com -o /tmp/install_salt.sh || "
    "wget -O /tmp/install_salt.sh https://bootstrap.saltstack.com",
    "sh /tmp/install_salt.sh",
)
WINDOWS_PATHS = SaltPaths(
    "C:/salt/conf",
    "C:/Windows/Temp/salt/",
    "C:/salt/state",
    "C:/salt/pillar/",
    "powershell Invoke-WebRequest -Uri "
    "'https://raw.githubusercontent.com/saltstack/salt-bootstrap/stable/bootstrap-salt.ps1' "
    "-OutFile 'C:/Windows/Temp/bootstrap-salt.ps1'",
    "Powershell C:/Windows/Temp/bootstrap-salt.ps1",
)


@dataclass(frozen=True)
class SaltMasterlessConfig(GuestOsOptions):
    skip_bootstrap: bool = option(False)
    bootstrap_args: str = option("")
    disable_sudo: bool = option(False)
    custom_state: str = option("")
    minion_config: str = option("")
    grains_file: str = option("")
    local_state_tree: str = option("")
    local_pillar_roots: str = option("")
    remote_state_tree: str = option("")
    remote_pillar_roots: str = option("")
    temp_config_dir: str = option("")
    no_exit_on_failure: bool = option(False)
    log_level: str = option("")
    salt_call_args: str = option("")
    salt_bin_dir: str = option("")
    guest_os_type: str = option("")
    formulas: list[str] = option(factory=list)

    def check_options(self) -> Iterator[str]:
        if self.os_type == WINDOWS:
            yield "guest_os_type: Windows guests (Git for Windows, winrepo) are not supported by imagesmith yet"
        if not self.local_state_tree:
            yield "local_state_tree cannot be empty"
        else:
            yield from _check_path(self.local_state_tree, "local_state_tree", want_dir=True)
        if self.formulas:
            if not all(_FORMULA_URL.match(u) for u in self.formulas):
                yield "Invalid formula URL. Please verify the git URLs also contain a '//' subdir"
            yield "formulas: downloading git formulas is not supported by imagesmith yet"
        yield from _check_path(self.local_pillar_roots, "local_pillar_roots", want_dir=True)
        yield from _check_path(self.minion_config, "minion_config", want_dir=False)
        if self.minion_config and (self.remote_state_tree or self.remote_pillar_roots):
            yield "remote_state_tree and remote_pillar_roots only apply when minion_config is not used"
        yield from _check_path(self.grains_file, "grains_file", want_dir=False)


def _check_path(path: str, name: str, *, want_dir: bool) -> Iterator[str]:
    if not path:
        return
    err, is_dir = stat_error(path)
    if err:
        yield f"{name}: path '{path}' is invalid: {err}"
    elif is_dir != want_dir:
        yield f"{name}: path '{path}' must point to a {'directory' if want_dir else 'file'}"


def make_call_args(config: SaltMasterlessConfig, paths: SaltPaths) -> str:
    """The arguments after ``salt-call --local`` (each part starts with a space, as in Packer)."""
    c = config
    args = f" state.sls {c.custom_state}" if c.custom_state else " state.highstate"
    if not c.minion_config:
        args += f" --file-root={c.remote_state_tree or paths.state_root}"
        args += f" --pillar-root={c.remote_pillar_roots or paths.pillar_root}"
    if not c.no_exit_on_failure:
        args += " --retcode-passthrough"
    args += f" -l {c.log_level or 'info'}"
    if c.salt_call_args:
        args += f" {c.salt_call_args}"
    return args


class SaltMasterlessProvisioner(Provisioner):
    type_name = "salt-masterless"
    config_class = SaltMasterlessConfig

    def __init__(self, config: SaltMasterlessConfig, info: BuildInfo) -> None:
        super().__init__(config, info)
        self.paths = WINDOWS_PATHS if config.os_type == WINDOWS else UNIX_PATHS
        self.guest = GuestCommands(config.os_type, sudo=not config.disable_sudo)
        self.temp_dir = config.temp_config_dir or self.paths.temp_dir
        self.call_args = make_call_args(config, self.paths)

    def sudo(self, command: str) -> str:
        """Packer's own ``sudo`` prefix, applied on top of the guest commands' one (hence ``sudo sudo``)."""
        if self.config.disable_sudo or self.config.os_type == WINDOWS:
            return command
        return f"sudo {command}"

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the salt-masterless provisioner needs a communicator; this build has none")
        c = self.config
        ui.say("Provisioning with Salt...")
        if not c.skip_bootstrap:
            await self._bootstrap(ui, comm)
        ui.message(f"Creating remote temporary directory: {self.temp_dir}")
        await self._create_dir(ui, comm, self.temp_dir, "Error creating remote temporary directory")
        if c.minion_config:
            await self._install_config(ui, comm, "minion config", c.minion_config, "minion")
        if c.grains_file:
            await self._install_config(ui, comm, "grains file", c.grains_file, "grains")
        ui.message(f"Uploading local state tree: {c.local_state_tree}")
        state_dst = c.remote_state_tree or self.paths.state_root
        await self._install_tree(ui, comm, c.local_state_tree, "states", state_dst, "local state tree", "salt tree")
        if c.local_pillar_roots:
            ui.message(f"Uploading local pillar roots: {c.local_pillar_roots}")
            pillar_dst = c.remote_pillar_roots or self.paths.pillar_root
            await self._install_tree(
                ui, comm, c.local_pillar_roots, "pillar", pillar_dst, "local pillar roots", "pillar root"
            )
        await self._call(ui, comm)

    async def _bootstrap(self, ui: Ui, comm: Communicator) -> None:
        ui.message("Downloading saltstack bootstrap to /tmp/install_salt.sh")
        await run_command(ui, comm, self.paths.bootstrap_fetch)
        command = f"{self.sudo(self.paths.bootstrap_run)} {self.config.bootstrap_args}"
        ui.message(f"Installing Salt with command {command}")
        await run_command(ui, comm, command)

    async def _call(self, ui: Ui, comm: Communicator) -> None:
        salt_call = go_join(self.config.salt_bin_dir, "salt-call")
        ui.message(f"Running: salt-call --local {self.call_args}")
        status = await run_command(ui, comm, self.sudo(f"{salt_call} --local {self.call_args}"))
        if status != 0 and not self.config.no_exit_on_failure:
            raise BuildError(f"Error executing salt-call: Bad exit status: {status}")

    async def _install_config(self, ui: Ui, comm: Communicator, what: str, src: str, name: str) -> None:
        """Upload ``src`` as ``name``, move it to the temp dir, then into the salt config dir."""
        ui.message(f"Uploading {what}: {src}")
        temp = go_join(self.temp_dir, name)
        try:
            await comm.upload(name, await asyncio.to_thread(Path(src).read_bytes))
        except (OSError, BuildError) as exc:
            raise BuildError(f"Error uploading local {what} file to remote: Error uploading {src}: {exc}") from exc
        await self._move(
            ui, comm, name, temp, f"Error uploading local {what} file to remote: Error moving file to destination"
        )
        ui.message(f"Make sure directory {self.paths.config_dir} exists")
        await self._create_dir(ui, comm, self.paths.config_dir, "Error creating remote salt configuration directory")
        target = go_join(self.paths.config_dir, name)
        await self._move(
            ui, comm, temp, target, f"Unable to move {self.temp_dir}/{name} to {self.paths.config_dir}/{name}"
        )

    async def _install_tree(
        self, ui: Ui, comm: Communicator, src: str, name: str, dst: str, what: str, clear_what: str
    ) -> None:
        """Upload the directory ``src`` as ``name`` (relative), move it to the temp dir, then to ``dst``."""
        temp = go_join(self.temp_dir, name)
        try:
            await comm.upload_dir(name, src, exclude=[".git"])
        except BuildError as exc:
            raise BuildError(f"Error uploading {what} to remote: {exc}") from exc
        await self._move(ui, comm, name, temp, f"Error uploading {what} to remote")
        ui.message(f"Verifying Path: {dst}")
        if await run_command(ui, comm, self.guest.stat_path(dst)) != 0:
            ui.message(f"Removing directory: {dst}")
            if await run_command(ui, comm, self.guest.remove_dir(dst)) != 0:
                raise BuildError(f"Unable to clear {clear_what}: Non-zero exit status.")
        await self._move(ui, comm, temp, dst, f"Unable to move {self.temp_dir}/{name} to {dst}")

    async def _move(self, ui: Ui, comm: Communicator, src: str, dst: str, context: str) -> None:
        ui.message(f"Moving {src} to {dst}")
        status = await run_command(ui, comm, self.sudo(self.guest.move_path(src, dst)))
        if status != 0:
            raise BuildError(f"{context}: Unable to move {src} to {dst}: Bad exit status: {status}")

    async def _create_dir(self, ui: Ui, comm: Communicator, path: str, context: str) -> None:
        ui.message(f"Creating directory: {path}")
        if await run_command(ui, comm, self.guest.create_dir(path)) != 0:
            raise BuildError(f"{context}: Non-zero exit status.")

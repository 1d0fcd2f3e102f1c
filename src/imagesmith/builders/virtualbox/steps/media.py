"""StepAttachISOs, StepAttachFloppy and StepRemoveDevices: what is plugged in while the VM installs.

Each attach records the command that detaches it in ``state.attached``; StepRemoveDevices runs
them after shutdown, and a failed build's cleanup runs whatever is still owed.
"""

from __future__ import annotations

import contextlib
import os

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError
from imagesmith.log import logger


class AttachIsos(Step[VBoxState]):
    """The boot ISO on ``boot_interface`` (None: no boot ISO, as virtualbox-ovf), the guest
    additions with ``guest_additions_mode: attach`` and the ``cd_files`` ISO (on the boot ISO's
    controller)."""

    def __init__(self, boot_interface: str | None) -> None:
        self.boot_interface = boot_interface

    @property
    def name(self) -> str:
        return "StepAttachISOs"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        vm = cfg.vm_name
        if self.boot_interface is not None:
            state.ctx.ui.say("Mounting ISOs...")
        disks = []
        if self.boot_interface is not None:
            disks.append((state.iso_path, "boot", self.boot_interface, "boot ISO"))
        if cfg.guest_additions_mode == "attach":
            interface = cfg.guest_additions_interface
            disks.append((state.guest_additions_iso, "guest_additions", interface, "guest additions ISO"))
        if state.cd_path:
            disks.append((state.cd_path, "cd_files", self.boot_interface or "ide", "cd_files ISO"))
        for path, kind, interface, what in disks:
            state.ctx.ui.message(f"Mounting {what}...")
            try:
                argv = commands.make_attach_dvd_command(vm, interface, os.path.realpath(path), kind)
                await state.driver.vboxmanage(argv)
            except ToolError as exc:
                raise fail(f"Error attaching ISO: {exc}") from exc
            detach = commands.make_attach_dvd_command(vm, interface, "none", kind)
            state.attached.append(detach)
            if kind == "boot":
                state.boot_iso_detach = detach

    async def cleanup(self, state: VBoxState) -> None:
        await detach_isos(state)


class AttachFloppy(Step[VBoxState]):
    def __init__(self) -> None:
        self.attached = False

    @property
    def name(self) -> str:
        return "StepAttachFloppy"

    async def run(self, state: VBoxState) -> None:
        vm = state.config.vm_name
        state.ctx.ui.say("Deleting any current floppy disk...")
        await state.driver.is_running(vm)  # Packer reads the VM's info here first
        state.ctx.ui.say("Attaching floppy disk...")
        try:
            for argv in commands.make_floppy_commands(vm, state.floppy_path):
                await state.driver.vboxmanage(argv)
        except ToolError as exc:
            raise fail(f"Error attaching floppy: {exc}") from exc
        state.attached.append(commands.make_detach_floppy_command(vm))
        self.attached = True

    async def cleanup(self, state: VBoxState) -> None:
        # Packer detaches again even after StepRemoveDevices removed the controller (that call then
        # fails, "not considering this a critical failure"); the same call, its failure only logged.
        if self.attached:
            argv = commands.make_detach_floppy_command(state.config.vm_name)
            if argv in state.attached:
                state.attached.remove(argv)
            try:
                await state.driver.vboxmanage(argv)
            except ToolError as exc:
                logger.debug("floppy already detached: %s", exc)


async def detach_isos(state: VBoxState) -> None:
    """Run the owed ISO detach commands (errors ignored: the VM is deleted next)."""
    for argv in [a for a in state.attached if commands.FLOPPY not in a]:
        state.attached.remove(argv)
        with contextlib.suppress(ToolError):
            await state.driver.vboxmanage(argv)


class RemoveDevices(Step[VBoxState]):
    """After shutdown: the floppy (and its controller), then the ISOs, as Packer's StepRemoveDevices.
    With ``bundle_iso`` the boot ISO stays attached, also through the cleanup (Packer's too)."""

    def __init__(self, bundle_iso: bool = False) -> None:
        self.bundle_iso = bundle_iso

    @property
    def name(self) -> str:
        return "StepRemoveDevices"

    async def run(self, state: VBoxState) -> None:
        vm = state.config.vm_name
        try:
            if commands.make_detach_floppy_command(vm) in state.attached:
                state.ctx.ui.message("Removing floppy drive...")
                state.attached.remove(commands.make_detach_floppy_command(vm))
                await state.driver.vboxmanage(commands.make_detach_floppy_command(vm))
                await state.driver.vboxmanage(commands.make_remove_floppy_controller_command(vm))
            for argv in [a for a in state.attached if commands.FLOPPY not in a]:
                state.attached.remove(argv)
                if not (self.bundle_iso and argv == state.boot_iso_detach):
                    await state.driver.vboxmanage(argv)
        except ToolError as exc:
            raise fail(f"Error removing devices: {exc}") from exc

"""StepSuppressMessages, stepCreateVM (iso) and StepImport (ovf); the cleanup of either
unregisters and deletes the VM."""

from __future__ import annotations

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.config import VirtualBoxIsoConfig
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError


class SuppressMessages(Step[VBoxState]):
    @property
    def name(self) -> str:
        return "StepSuppressMessages"

    async def run(self, state: VBoxState) -> None:
        for argv in commands.make_suppress_messages_commands():
            try:
                await state.driver.vboxmanage(argv)
            except ToolError as exc:
                raise fail(f"Error configuring VirtualBox to suppress messages: {exc}") from exc


class RegisteredVm(Step[VBoxState]):
    """A step that registers the VM. Cleanup deletes it unless ``keep_registered`` and the build succeeded."""

    def __init__(self) -> None:
        self.succeeded = False

    def mark_succeeded(self) -> None:
        self.succeeded = True

    async def cleanup(self, state: VBoxState) -> None:
        if not state.vm_name:
            return
        if state.config.keep_registered and self.succeeded:
            state.ctx.ui.say("Keeping virtual machine registered with VirtualBox host (keep_registered = true)")
            return
        state.ctx.ui.say("Deregistering and deleting VM...")
        try:
            await state.driver.delete(state.vm_name)
        except ToolError as exc:
            state.ctx.ui.error(f"Error deleting VM: {exc}")
            return
        state.vm_name = ""


class CreateVm(RegisteredVm):
    """iso's stepCreateVM: ``createvm`` and the hardware settings."""

    def __init__(self, cfg: VirtualBoxIsoConfig) -> None:
        super().__init__()
        self.cfg = cfg

    @property
    def name(self) -> str:
        return "stepCreateVM"

    async def run(self, state: VBoxState) -> None:
        cfg = self.cfg
        state.ctx.ui.say("Creating virtual machine...")
        argvs = commands.make_create_vm_commands(
            cfg.vm_name, cfg.guest_os_type, cfg.cpus, cfg.memory, cfg.usb, cfg.sound
        )
        for i, argv in enumerate(argvs):
            try:
                await state.driver.vboxmanage(argv)
            except ToolError as exc:
                raise fail(f"Error creating VM: {exc}") from exc
            if i == 0:  # registered: from now on the cleanup owes an unregistervm
                state.vm_name = cfg.vm_name


class ImportVm(RegisteredVm):
    """ovf's StepImport: ``import SOURCE --vsys 0 --vmname NAME`` with the import flags."""

    def __init__(self, flags: list[str]) -> None:
        super().__init__()
        self.flags = flags

    @property
    def name(self) -> str:
        return "StepImport"

    async def run(self, state: VBoxState) -> None:
        vm = state.config.vm_name
        state.ctx.ui.say(f"Importing VM: {state.iso_path}")
        try:
            await state.driver.vboxmanage(commands.make_import_command(vm, state.iso_path, self.flags))
        except ToolError as exc:
            raise fail(f"Error importing VM: {exc}") from exc
        state.vm_name = vm

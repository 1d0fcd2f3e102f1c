"""StepVBoxManage (``vboxmanage`` / ``vboxmanage_post``) and StepRun (start the VM; cleanup powers it off)."""

from __future__ import annotations

from collections.abc import Sequence

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.render import go_struct, render_runtime
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError


class RunVBoxManage(Step[VBoxState]):
    """The user's VBoxManage lines, each argument rendered with ``{{ .Name }}``."""

    def __init__(self, lines: Sequence[Sequence[str]]) -> None:
        self.lines = lines

    @property
    def name(self) -> str:
        return "StepVBoxManage"

    async def run(self, state: VBoxState) -> None:
        if not self.lines:
            return
        state.ctx.ui.say("Executing custom VBoxManage commands...")
        data = go_struct("*common.commandTemplate", Name=state.config.vm_name)
        for line in self.lines:
            argv = [
                render_runtime(arg, state.ctx.info, data, error="Error preparing vboxmanage command: ") for arg in line
            ]
            state.ctx.ui.message(f"Executing: {' '.join(argv)}")
            try:
                await state.driver.vboxmanage(argv)
            except ToolError as exc:
                raise fail(f"Error executing command: {exc}") from exc


class RunVm(Step[VBoxState]):
    def __init__(self) -> None:
        self.started = False

    @property
    def name(self) -> str:
        return "StepRun"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        ui.say("Starting the virtual machine...")
        if cfg.headless:
            ui.message(
                "The VM will be run headless, without a GUI. If you want to\nview the screen of the VM, "
                f"connect via VRDP without a password to\nrdp://{cfg.vrdp_bind_address}:{state.vrdp_port}"
            )
        # Set first: a Ctrl-C that kills ``startvm`` half-way may leave the VM running (cleanup asks).
        self.started = True
        try:
            await state.driver.vboxmanage(commands.make_start_command(cfg.vm_name, cfg.headless))
        except ToolError as exc:
            raise fail(f"Error starting VM: {exc}") from exc

    async def cleanup(self, state: VBoxState) -> None:
        if not self.started:
            return
        try:
            if await state.driver.is_running(state.config.vm_name):
                await state.driver.stop(state.config.vm_name)
        except ToolError as exc:
            state.ctx.ui.error(f"Error shutting down VM: {exc}")

"""StepRun: ``vmrun start``; its cleanup stops the VM if it still runs."""

from __future__ import annotations

import contextlib

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.core.steps import Step
from imagesmith.errors import ToolError


class RunVm(Step[VmwareState]):
    def __init__(self) -> None:
        self.started = False

    @property
    def name(self) -> str:
        return "StepRun"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        ui.say("Starting virtual machine...")
        if cfg.headless and state.vnc_port:
            ui.message(
                "The VM will be run headless, without a GUI. If you want to\nview the screen of the VM, connect via "
                f'VNC with the password "{state.vnc_password}" to\nvnc://{cfg.vnc_bind_address}:{state.vnc_port}'
            )
        elif cfg.headless:
            ui.message("The VM will be run headless, without a GUI, as configured.")
        self.started = True  # vmrun may have started the VM even if it then failed
        await state.driver.start(state.vmx_path, cfg.headless)

    async def cleanup(self, state: VmwareState) -> None:
        if not self.started:
            return
        with contextlib.suppress(ToolError):
            if await state.driver.is_running(state.vmx_path):
                state.ctx.ui.say("Stopping virtual machine...")
                await state.driver.stop(state.vmx_path)

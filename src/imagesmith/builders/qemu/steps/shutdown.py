"""stepShutdown: ``shutdown_command`` then wait for QEMU to exit, or halt the VM."""

from __future__ import annotations

import asyncio
import contextlib

from imagesmith.bootcommand.qmp import QmpError
from imagesmith.builders.qemu.state import QemuState
from imagesmith.core.steps import Step, fail
from imagesmith.template.values import format_go_duration


class Shutdown(Step[QemuState]):
    @property
    def name(self) -> str:
        return "stepShutdown"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if state.communicator is None:
            ui.say("Waiting for shutdown...")
            if not await state.driver.wait_vm(float(cfg.shutdown_timeout)):
                await state.driver.stop_vm()
                raise fail("Timeout while waiting for machine to shut down.")
            return
        if not cfg.shutdown_command:
            ui.say("Halting the virtual machine...")
            await _halt(state)
            return
        ui.say("Gracefully halting virtual machine...")
        command = asyncio.ensure_future(
            state.communicator.execute(cfg.shutdown_command, stdout=ui.message, stderr=ui.error)
        )
        try:
            if not await state.driver.wait_vm(float(cfg.shutdown_timeout)):
                await state.driver.stop_vm()
                raise fail(
                    f"Timeout while waiting for machine to shut down (waited {format_go_duration(cfg.shutdown_timeout)}"
                    " after the shutdown_command); QEMU was stopped."
                )
        finally:
            command.cancel()
            with contextlib.suppress(BaseException):
                await command
            await state.communicator.close()
            state.communicator = None


async def _halt(state: QemuState) -> None:
    if state.qmp is not None:
        with contextlib.suppress(QmpError, OSError):
            await asyncio.wait_for(state.qmp.execute("quit"), 2)
    if not await state.driver.wait_vm(3):
        await state.driver.stop_vm()

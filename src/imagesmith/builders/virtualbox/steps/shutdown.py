"""StepShutdown: ``shutdown_command`` (or ACPI, or a power-off), then wait until VirtualBox says the
VM is off, polling ``showvminfo`` every 0.5 s; then ``post_shutdown_delay``."""

from __future__ import annotations

import asyncio
import contextlib

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError
from imagesmith.template.values import format_go_duration

POLL = 0.5


async def wait_stopped(state: VBoxState, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await state.driver.is_running(state.config.vm_name):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(POLL)
    return True


class Shutdown(Step[VBoxState]):
    def __init__(self) -> None:
        self.command: asyncio.Future[int] | None = None

    @property
    def name(self) -> str:
        return "StepShutdown"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        vm = cfg.vm_name
        try:
            if cfg.disable_shutdown:
                ui.say("Automatic shutdown disabled. Please shutdown virtual machine.")
            elif state.communicator is not None and cfg.shutdown_command:
                ui.say("Gracefully halting virtual machine...")
                await self._run_command(state)
            elif cfg.acpi_shutdown:
                ui.say("Sending ACPI shutdown to the virtual machine...")
                await state.driver.vboxmanage(commands.make_acpi_command(vm))
            else:
                ui.say("Halting the virtual machine...")
                await state.driver.vboxmanage(commands.make_poweroff_command(vm))
            if not await wait_stopped(state, float(cfg.shutdown_timeout)):
                raise fail("Timeout while waiting for machine to shutdown.")
        except ToolError as exc:
            raise fail(f"Error stopping VM: {exc}") from exc
        if cfg.post_shutdown_delay > 0:
            ui.say(f"Waiting {format_go_duration(cfg.post_shutdown_delay)} to give VMM time to clean up...")
            await asyncio.sleep(cfg.post_shutdown_delay)
        ui.say("VM shut down.")

    async def _run_command(self, state: VBoxState) -> None:
        assert state.communicator is not None
        ui = state.ctx.ui
        # The connection usually dies with the guest: the command's end is not waited for.
        self.command = asyncio.ensure_future(
            state.communicator.execute(state.config.shutdown_command, stdout=ui.message, stderr=ui.error)
        )

    async def cleanup(self, state: VBoxState) -> None:
        if self.command is not None:
            self.command.cancel()
            with contextlib.suppress(BaseException):
                await self.command
        if state.communicator is not None:
            with contextlib.suppress(Exception):
                await state.communicator.close()
            state.communicator = None

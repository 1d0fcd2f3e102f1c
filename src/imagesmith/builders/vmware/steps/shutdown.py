"""StepShutdown (``shutdown_command``, or a hard stop) and StepCleanFiles."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.core.steps import Step, fail

POLL = 0.15
LOCK_WAIT = 120.0
KEEP_EXTENSIONS = (".nvram", ".vmdk", ".vmsd", ".vmx", ".vmxf")


class Shutdown(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepShutdown"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.shutdown_command and state.communicator is not None:
            ui.say("Gracefully halting virtual machine...")
            command = asyncio.ensure_future(state.communicator.execute(cfg.shutdown_command))
            try:
                await _wait_stopped(state, float(cfg.shutdown_timeout))
            finally:
                command.cancel()
                with contextlib.suppress(BaseException):
                    await command
        else:
            ui.say("Forcibly halting virtual machine...")
            await state.driver.stop(state.vmx_path)
        ui.message("Waiting for VMware to clean up after itself...")
        await _wait_for_locks(Path(cfg.output_directory))


async def _wait_stopped(state: VmwareState, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await state.driver.is_running(state.vmx_path):
        if loop.time() > deadline:
            raise fail("Timeout while waiting for machine to shut down.")
        await asyncio.sleep(POLL)


async def _wait_for_locks(output: Path) -> None:
    """Until VMware's ``*.lck`` files are gone (a lone ``.vmx.lck`` does not count), at most 2 minutes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOCK_WAIT
    while loop.time() < deadline:
        locks = [p.name for p in output.rglob("*") if p.name.lower().endswith(".lck")]
        if not locks or (len(locks) == 1 and locks[0].endswith(".vmx.lck")):
            return
        await asyncio.sleep(POLL)


class CleanFiles(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepCleanFiles"

    async def run(self, state: VmwareState) -> None:
        state.ctx.ui.say("Deleting unnecessary VMware files...")
        for path in sorted(Path(state.config.output_directory).rglob("*")):
            if path.is_file() and path.suffix not in KEEP_EXTENSIONS:
                state.ctx.ui.message(f"Deleting: {path}")
                path.unlink(missing_ok=True)

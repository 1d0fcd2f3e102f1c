"""communicator.StepConnect for the qemu builder: SSH through the forwarded port (or none)."""

from __future__ import annotations

import asyncio

from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.keys import temporary_keys
from imagesmith.communicator.ssh import SshCommunicator
from imagesmith.core.steps import Step, fail
from imagesmith.template.values import format_go_duration


def ssh_address(state: QemuState) -> tuple[str, int]:
    """Packer's qemu ``commHost``/``commPort``: ssh_host or 127.0.0.1, the forwarded port."""
    cfg = state.config
    host = cfg.ssh_host or "127.0.0.1"
    port = cfg.effective_ssh_port if (cfg.skip_nat_mapping or cfg.net_bridge) else state.ssh_host_port
    return host, port


class ConnectSsh(Step[QemuState]):
    @property
    def name(self) -> str:
        return "StepConnect"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.communicator == "winrm":
            raise fail("the winrm communicator is not supported by imagesmith yet")
        host, port = ssh_address(state)
        private, _ = await temporary_keys(state)
        keys = (private,) if private else ()
        settings = cfg.ssh_settings(host, port, keys)
        ui.say(f"Using ssh communicator to connect: {host}")
        ui.say("Waiting for SSH to become available...")
        comm = await SshCommunicator.open(settings, ui)
        if cfg.pause_before_connecting > 0:
            await comm.close()
            ui.say(f"Pausing {format_go_duration(cfg.pause_before_connecting)} before connecting...")
            await asyncio.sleep(cfg.pause_before_connecting)
            comm = await SshCommunicator.open(settings, ui)
        ui.say("Connected to SSH!")
        state.communicator = comm

    async def cleanup(self, state: QemuState) -> None:
        if state.communicator is not None:
            await state.communicator.close()
            state.communicator = None

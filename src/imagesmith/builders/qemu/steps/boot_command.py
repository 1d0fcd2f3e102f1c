"""stepTypeBootCommand: wait ``boot_wait``, then type ``boot_command`` through QMP (or VNC)."""

from __future__ import annotations

import time

from imagesmith.bootcommand import (
    QmpKeyDriver,
    VncKeyDriver,
    choose_pacing,
    parse_boot_command,
    type_commands,
)
from imagesmith.bootcommand.vcpu import VcpuWatch
from imagesmith.bootcommand.vnc import VncClient
from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.keys import temporary_keys
from imagesmith.core.render import go_struct
from imagesmith.core.steps import Step
from imagesmith.steps.boot_wait import render_boot_command, wait_for_boot


class TypeBootCommand(Step[QemuState]):
    @property
    def name(self) -> str:
        return "stepTypeBootCommand"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if state.layer.restored:
            return  # the guest continues from a cached layer: it has booted long ago
        await wait_for_boot(ui, cfg.boot_wait)
        if not cfg.boot_command:
            return
        _, public = await temporary_keys(state)
        data = go_struct(
            "*qemu.bootCommandTemplateData", HTTPIP=state.http_ip, HTTPPort=state.http_port, Name=cfg.vm_name,
            SSHPublicKey=public,
        )  # fmt: skip
        text = render_boot_command(cfg.boot_command, state.ctx.info, data)
        commands = parse_boot_command(text)
        pacing = choose_pacing(cfg.boot_command_driver, float(cfg.boot_key_interval))
        started = time.monotonic()
        if cfg.boot_command_driver == "vnc":
            ui.say(f"Connecting to VM via VNC ({cfg.vnc_bind_address}:{state.vnc_port})")
            vnc = await VncClient.connect(cfg.vnc_bind_address, state.vnc_port)
            try:
                ui.say("Typing the boot command over VNC...")
                watch = await VcpuWatch.from_qmp(state.qmp) if state.qmp is not None else None
                await type_commands(commands, VncKeyDriver(vnc, watch), pacing)
            finally:
                await vnc.close()
        else:
            assert state.qmp is not None
            ui.say("Typing the boot command over QMP...")
            await type_commands(commands, await QmpKeyDriver.open(state.qmp), pacing)
        ui.message(f"Typed {len(commands)} key actions in {time.monotonic() - started:.2f}s")

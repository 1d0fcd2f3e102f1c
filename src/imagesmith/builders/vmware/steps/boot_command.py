"""StepVNCConnect + StepVNCBootCommand: wait ``boot_wait``, then type ``boot_command`` over
VMware's VNC server (with its password), at Packer's pace (100 ms per key event by default)."""

from __future__ import annotations

import time

from imagesmith.bootcommand import VncKeyDriver, choose_pacing, parse_boot_command, type_commands
from imagesmith.bootcommand.vnc import VncClient
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.core.render import go_struct
from imagesmith.core.steps import Step
from imagesmith.steps.boot_wait import render_boot_command, wait_for_boot


class TypeBootCommand(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepVNCBootCommand"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.disable_vnc:
            return
        ui.say("Connecting to VNC...")
        vnc = await VncClient.connect(cfg.vnc_bind_address, state.vnc_port, password=state.vnc_password)
        try:
            await wait_for_boot(ui, cfg.boot_wait)
            if not cfg.boot_command:
                return
            data = go_struct("*common.VNCBootCommandTemplateData", HTTPIP=state.http_ip, HTTPPort=state.http_port,
                             Name=cfg.vm_name)  # fmt: skip
            text = render_boot_command(cfg.boot_command, state.ctx.info, data)
            commands = parse_boot_command(text)
            ui.say("Typing the boot command over VNC...")
            started = time.monotonic()
            await type_commands(commands, VncKeyDriver(vnc), choose_pacing("vnc", float(cfg.boot_key_interval)))
            ui.message(f"Typed {len(commands)} key actions in {time.monotonic() - started:.2f}s")
        finally:
            await vnc.close()

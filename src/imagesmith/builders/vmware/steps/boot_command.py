"""StepVNCConnect + StepVNCBootCommand: wait ``boot_wait``, then type ``boot_command`` over
VMware's VNC server (with its password), at Packer's pace (100 ms per key event by default)."""

from __future__ import annotations

import asyncio
import time

from imagesmith.bootcommand import VncKeyDriver, choose_pacing, parse_boot_command, type_commands
from imagesmith.bootcommand.vnc import VncClient
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.core.render import go_struct, render_runtime
from imagesmith.core.steps import Step, fail
from imagesmith.errors import RenderError
from imagesmith.template.values import format_go_duration


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
            if cfg.boot_wait > 0:
                ui.say(f"Waiting {format_go_duration(cfg.boot_wait)} for boot...")
                await asyncio.sleep(cfg.boot_wait)
            if not cfg.boot_command:
                return
            data = go_struct("*common.VNCBootCommandTemplateData", HTTPIP=state.http_ip, HTTPPort=state.http_port,
                             Name=cfg.vm_name)  # fmt: skip
            try:
                text = render_runtime("".join(cfg.boot_command), state.ctx.info, data)
            except RenderError as exc:
                raise fail(f"Error preparing boot command: {exc}") from exc
            commands = parse_boot_command(text)
            ui.say("Typing the boot command over VNC...")
            started = time.monotonic()
            await type_commands(commands, VncKeyDriver(vnc), choose_pacing("vnc", float(cfg.boot_key_interval)))
            ui.message(f"Typed {len(commands)} key actions in {time.monotonic() - started:.2f}s")
        finally:
            await vnc.close()

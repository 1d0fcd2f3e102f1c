"""StepTypeBootCommand: wait ``boot_wait``, then type ``boot_command`` as PC/XT scancodes, one
``controlvm keyboardputscancode`` call per group of at most 25 codes, ``boot_keygroup_interval``
(100 ms, or PACKER_KEY_INTERVAL) after each group, as Packer 1.6.6 does."""

from __future__ import annotations

import asyncio
import os
import time

from imagesmith.bootcommand import parse_boot_command
from imagesmith.bootcommand.scancodes import plan_scancodes
from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.render import go_struct
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError
from imagesmith.steps.boot_wait import render_boot_command, wait_for_boot
from imagesmith.template.values import parse_go_duration

DEFAULT_GROUP_INTERVAL = 0.1


def group_interval(configured: float) -> float:
    if configured > 0:
        return configured
    env = os.environ.get("PACKER_KEY_INTERVAL", "")
    if env:
        try:
            return float(parse_go_duration(env))
        except ValueError:
            pass
    return DEFAULT_GROUP_INTERVAL


class TypeBootCommand(Step[VBoxState]):
    @property
    def name(self) -> str:
        return "StepTypeBootCommand"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        await wait_for_boot(ui, cfg.boot_wait)
        if not cfg.boot_command:
            return
        data = go_struct("*common.bootCommandTemplateData", HTTPIP=state.http_ip, HTTPPort=state.http_port,
                         Name=cfg.vm_name, SSHPublicKey=state.ssh_public_key)  # fmt: skip
        text = render_boot_command(cfg.boot_command, state.ctx.info, data)
        ui.say("Typing the boot command...")
        interval = group_interval(float(cfg.boot_keygroup_interval))
        started = time.monotonic()
        for item in plan_scancodes(parse_boot_command(text)):
            if isinstance(item, float):
                await asyncio.sleep(item)
                continue
            try:
                await state.driver.vboxmanage(commands.make_scancode_command(cfg.vm_name, item))
            except ToolError as exc:
                raise fail(f"Error sending boot command: {exc}") from exc
            await asyncio.sleep(interval)
        ui.message(f"Typed the boot command in {time.monotonic() - started:.2f}s")

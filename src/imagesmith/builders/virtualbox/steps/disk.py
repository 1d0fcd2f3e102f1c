"""stepCreateDisk: the VDI in the output directory, the IDE controller (always) and the disk's own."""

from __future__ import annotations

import os

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.config import VirtualBoxIsoConfig
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError


def disk_path(state: VBoxState) -> str:
    cfg = state.config
    return os.path.join(cfg.output_directory, f"{cfg.vm_name}.vdi")


class CreateDisk(Step[VBoxState]):
    def __init__(self, cfg: VirtualBoxIsoConfig) -> None:
        self.cfg = cfg

    @property
    def name(self) -> str:
        return "stepCreateDisk"

    async def run(self, state: VBoxState) -> None:
        cfg = self.cfg
        vm = cfg.vm_name
        state.ctx.ui.say("Creating hard drive...")
        try:
            await state.driver.vboxmanage(commands.make_create_hd_command(disk_path(state), cfg.disk_size))
        except ToolError as exc:
            raise fail(f"Error creating hard drive: {exc}") from exc
        try:
            # The IDE controller always exists: the ISO and guest additions may use it.
            await state.driver.vboxmanage(commands.make_storagectl_command(vm, "ide"))
            if "sata" in (cfg.hard_drive_interface, cfg.iso_interface):
                old = (await state.driver.version()).startswith("4.2")
                await state.driver.vboxmanage(commands.make_storagectl_command(vm, "sata", cfg.sata_port_count, old))
            if cfg.hard_drive_interface in ("scsi", "pcie"):
                await state.driver.vboxmanage(
                    commands.make_storagectl_command(vm, cfg.hard_drive_interface, cfg.nvme_port_count)
                )
            await state.driver.vboxmanage(
                commands.make_attach_disk_command(
                    vm, cfg.hard_drive_interface, disk_path(state), cfg.hard_drive_nonrotational, cfg.hard_drive_discard
                )
            )
        except ToolError as exc:
            raise fail(f"Error attaching hard drive: {exc}") from exc

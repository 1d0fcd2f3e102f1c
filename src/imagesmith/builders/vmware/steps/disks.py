"""StepCreateDisks and StepCompactDisk: the ``.vmdk`` files in ``output_directory``."""

from __future__ import annotations

import os

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.vmx_create import additional_disk_numbers
from imagesmith.core.steps import Step


def disk_plan(output_dir: str, name: str, main_size: int, additional: list[int]) -> list[tuple[str, str]]:
    """``(path, size)`` of every disk: ``NAME.vmdk``, then ``NAME-N.vmdk`` (N skipping 7)."""
    plan = [(os.path.join(output_dir, f"{name}.vmdk"), f"{main_size}M")] if main_size else []
    for number, size in zip(additional_disk_numbers(len(additional)), additional, strict=True):
        plan.append((os.path.join(output_dir, f"{name}-{number}.vmdk"), f"{size}M"))
    return plan


class CreateDisks(Step[VmwareState]):
    def __init__(self, main_size: int) -> None:
        self.main_size = main_size

    @property
    def name(self) -> str:
        return "StepCreateDisks"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        state.ctx.ui.say("Creating required virtual machine disks")
        for path, size in disk_plan(cfg.output_directory, cfg.vmdk_name, self.main_size, cfg.disk_additional_size):
            await state.driver.create_disk(path, size, cfg.disk_adapter_type, cfg.disk_type_id)
            state.disk_paths.append(path)


class CompactDisks(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepCompactDisk"

    async def run(self, state: VmwareState) -> None:
        state.ctx.ui.say("Compacting all attached virtual disks...")
        for number, path in enumerate(state.disk_paths, start=1):
            state.ctx.ui.message(f"Compacting virtual disk {number}")
            await state.driver.compact_disk(path)

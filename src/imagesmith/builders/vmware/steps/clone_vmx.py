"""StepCloneVMX (vmware-vmx): clone ``source_path`` into ``output_directory`` and find its disks."""

from __future__ import annotations

import os
import re

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.vmx import read_vmx
from imagesmith.core.steps import Step, fail

_DISK_KEY = re.compile(r"^(scsi|sata|ide|nvme)\d:\d{1,2}\.filename", re.IGNORECASE)


def attached_disks(data: dict[str, str]) -> list[str]:
    """The ``.vmdk`` file names the ``.vmx`` attaches."""
    return [value for key, value in sorted(data.items()) if _DISK_KEY.match(key) and value.endswith(".vmdk")]


class CloneVmx(Step[VmwareState]):
    def __init__(self, source: str, linked: bool) -> None:
        self.source = source
        self.linked = linked

    @property
    def name(self) -> str:
        return "StepCloneVMX"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        state.ctx.ui.say("Cloning source VM...")
        vmx = os.path.join(cfg.output_directory, f"{cfg.vm_name}.vmx")
        await state.driver.clone(vmx, self.source, self.linked)
        data = read_vmx(vmx)
        disks = [os.path.join(cfg.output_directory, name) for name in attached_disks(data)]
        if not disks:
            raise fail("Could not enumerate disk info from the vmx file")
        state.vmx_path = vmx
        state.disk_paths = disks
        state.network = data.get("ethernet0.connectiontype") or "nat"

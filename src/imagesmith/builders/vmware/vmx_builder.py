"""The vmware-vmx builder: clone an existing VMware VM, provision it, in Packer 1.6.6's step order."""

from __future__ import annotations

from imagesmith.builders.vmware.common import Steps, machine_steps, media_steps, run_vmware
from imagesmith.builders.vmware.config import VmwareVmxConfig
from imagesmith.builders.vmware.steps.clone_vmx import CloneVmx
from imagesmith.builders.vmware.steps.disks import CreateDisks
from imagesmith.builders.vmware.steps.output_dir import PrepareOutputDir
from imagesmith.builders.vmware.steps.vmx_files import ConfigureVmx
from imagesmith.core.plugin import Artifact, BuildContext, Builder


def make_steps(cfg: VmwareVmxConfig, ctx: BuildContext, output: PrepareOutputDir) -> Steps:
    """Packer's vmware-vmx step list (``builder/vmware/vmx/builder.go``), local drivers only."""
    return [
        output,
        *media_steps(cfg, ctx),
        CreateDisks(0),
        CloneVmx(cfg.source_path, cfg.linked),
        ConfigureVmx(cfg.vmx_data, disk_adapter=cfg.disk_adapter_type),
        *machine_steps(cfg, ctx, output),
    ]


class VmwareVmxBuilder(Builder):
    type_name = "vmware-vmx"
    config_class = VmwareVmxConfig
    late_render = frozenset({"boot_command", "tools_upload_path"})

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: VmwareVmxConfig = self.config.resolved(self.info.build_name)
        return await run_vmware(cfg, ctx, lambda output: make_steps(cfg, ctx, output))

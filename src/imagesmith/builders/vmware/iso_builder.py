"""The vmware-iso builder: from an ISO to a provisioned VMware VM, in Packer 1.6.6's step order."""

from __future__ import annotations

from imagesmith.builders.vmware.common import Steps, machine_steps, media_steps, run_vmware
from imagesmith.builders.vmware.config import VmwareIsoConfig
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.steps.disks import CreateDisks
from imagesmith.builders.vmware.steps.output_dir import PrepareOutputDir
from imagesmith.builders.vmware.steps.vmx_files import ConfigureVmx, CreateVmx
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.steps.download import DownloadIso


def make_steps(cfg: VmwareIsoConfig, ctx: BuildContext, output: PrepareOutputDir) -> Steps:
    """Packer's vmware-iso step list (``builder/vmware/iso/builder.go``), local drivers only."""
    return [
        DownloadIso[VmwareState](ctx.ui, cfg.urls, cfg.iso_checksum, cfg.iso_target_path, cfg.iso_target_extension),
        output,
        *media_steps(cfg, ctx),
        CreateDisks(cfg.disk_size),
        CreateVmx(cfg),
        ConfigureVmx(cfg.vmx_data, disk_adapter=cfg.disk_adapter_type, cdrom_adapter=cfg.cdrom_adapter_type),
        *machine_steps(cfg, ctx, output),
    ]


class VmwareIsoBuilder(Builder):
    type_name = "vmware-iso"
    config_class = VmwareIsoConfig
    late_render = frozenset({"boot_command", "tools_upload_path"})

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: VmwareIsoConfig = self.config.resolved(self.info.build_name)
        return await run_vmware(cfg, ctx, lambda output: make_steps(cfg, ctx, output))

"""The vmware-vmx builder: clone an existing VMware VM, provision it, in Packer 1.6.6's step order."""

from __future__ import annotations

from imagesmith.builders.vmware.artifact import make_artifact
from imagesmith.builders.vmware.config import VmwareVmxConfig
from imagesmith.builders.vmware.driver import Driver, find_tools
from imagesmith.builders.vmware.iso_builder import hook_data
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.steps.boot_command import TypeBootCommand
from imagesmith.builders.vmware.steps.clone_vmx import CloneVmx
from imagesmith.builders.vmware.steps.disks import CompactDisks, CreateDisks
from imagesmith.builders.vmware.steps.network import ConfigureVnc, DiscoverHttpIp, FindGuestIp, ssh_address
from imagesmith.builders.vmware.steps.output_dir import KeepOutput, PrepareOutputDir
from imagesmith.builders.vmware.steps.run_vm import RunVm
from imagesmith.builders.vmware.steps.shutdown import CleanFiles, Shutdown
from imagesmith.builders.vmware.steps.vmx_files import CleanVmx, ConfigureVmx
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.connect import ConnectSsh
from imagesmith.steps.http_server import ServeHttp
from imagesmith.steps.provision import ProvisionStep


def make_steps(cfg: VmwareVmxConfig, ctx: BuildContext, output: PrepareOutputDir) -> list[Step[VmwareState] | None]:
    """Packer's vmware-vmx step list (``builder/vmware/vmx/builder.go``), local drivers only."""
    uses_comm = cfg.communicator != "none"
    return [
        output,
        CreateDisks(0),
        CloneVmx(cfg.source_path, cfg.linked),
        ConfigureVmx(cfg.vmx_data),
        DiscoverHttpIp(),
        ServeHttp[VmwareState](
            ctx.ui,
            cfg.http_directory,
            {},
            port_min=cfg.http_port_min,
            port_max=cfg.http_port_max,
            bind_address=cfg.http_bind_address,
        ),
        when(not cfg.disable_vnc, ConfigureVnc()),
        RunVm(),
        TypeBootCommand(),
        when(uses_comm, FindGuestIp()),
        when(uses_comm, ConnectSsh[VmwareState](cfg, ctx.ui, ssh_address)),
        ProvisionStep[VmwareState](ctx, hook_data),
        Shutdown(),
        CleanFiles(),
        when(not cfg.skip_compaction, CompactDisks()),
        ConfigureVmx(cfg.vmx_data_post),
        CleanVmx(),
        KeepOutput(output),
    ]


class VmwareVmxBuilder(Builder):
    type_name = "vmware-vmx"
    config_class = VmwareVmxConfig
    late_render = frozenset({"boot_command", "tools_upload_path"})

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: VmwareVmxConfig = self.config.resolved(self.info.build_name)
        state = VmwareState(config=cfg, driver=Driver(find_tools()), ctx=ctx)
        output = PrepareOutputDir()
        await run_steps(make_steps(cfg, ctx, output), state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        artifact_state = {
            "generated_data": state.generated,
            "artifact.conf.format": cfg.format,
            "artifact.conf.keep_registered": str(cfg.keep_registered).lower(),
            "artifact.conf.skip_export": str(cfg.skip_export).lower(),
        }
        return make_artifact(cfg.output_directory, cfg.vm_name, artifact_state)

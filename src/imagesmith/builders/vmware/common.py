"""What vmware-iso and vmware-vmx share: every step from the HTTP server to the cleaned .vmx
(Packer's two step lists differ only in how the machine is made), the generated data the
provisioners see, and the run that turns the output directory into the artifact."""

from __future__ import annotations

from collections.abc import Callable

from imagesmith.builders.vmware.artifact import make_artifact
from imagesmith.builders.vmware.config import VmwareCommonConfig
from imagesmith.builders.vmware.driver import Driver, find_tools
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.steps.boot_command import TypeBootCommand
from imagesmith.builders.vmware.steps.disks import CompactDisks
from imagesmith.builders.vmware.steps.export import Export, verify_ovftool
from imagesmith.builders.vmware.steps.network import ConfigureVnc, DiscoverHttpIp, FindGuestIp, ssh_address
from imagesmith.builders.vmware.steps.output_dir import KeepOutput, PrepareOutputDir
from imagesmith.builders.vmware.steps.run_vm import RunVm
from imagesmith.builders.vmware.steps.shutdown import CleanFiles, Shutdown
from imagesmith.builders.vmware.steps.vmx_files import CleanVmx, ConfigureVmx
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.connect import ConnectSsh
from imagesmith.steps.http_server import ServeHttp
from imagesmith.steps.media import CreateCd, CreateFloppy
from imagesmith.steps.provision import ProvisionStep

Steps = list[Step[VmwareState] | None]


def hook_data(state: VmwareState) -> GeneratedData:
    cfg = state.config
    comm: CommData | None = None
    if cfg.communicator != "none":
        host, port = ssh_address(state)
        comm = CommData(conn_type=cfg.communicator or "ssh", host=host, port=port, user=cfg.ssh_username,
                        password=cfg.ssh_password, ssh_private_key_file=cfg.ssh_private_key_file,
                        ssh_agent_auth=bool(cfg.ssh_agent_auth), winrm_password=cfg.winrm_password)  # fmt: skip
    return GeneratedData(comm=comm, http_ip=state.http_ip, http_port=state.http_port)


def media_steps(cfg: VmwareCommonConfig, ctx: BuildContext) -> Steps:
    """StepCreateFloppy and StepCreateCD, each only when it has something to hold."""
    return [
        when(bool(cfg.floppy_files or cfg.floppy_dirs),
             CreateFloppy[VmwareState](ctx.ui, cfg.floppy_files, cfg.floppy_dirs, cfg.floppy_label)),
        when(bool(cfg.cd_files), CreateCd[VmwareState](ctx.ui, cfg.cd_files, cfg.cd_label)),
    ]  # fmt: skip


def machine_steps(cfg: VmwareCommonConfig, ctx: BuildContext, output: PrepareOutputDir) -> Steps:
    """From the HTTP server to the cleaned .vmx, after the machine's files exist."""
    uses_comm = cfg.communicator != "none"
    return [
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
        ConfigureVmx(cfg.vmx_data_post, skip_floppy=True),
        CleanVmx(),
        Export(),
        KeepOutput(output),
    ]


async def run_vmware(
    cfg: VmwareCommonConfig, ctx: BuildContext, make_steps: Callable[[PrepareOutputDir], Steps]
) -> Artifact | None:
    """Run a vmware builder's steps; the artifact is what its output directory holds."""
    state = VmwareState(config=cfg, driver=Driver(find_tools()), ctx=ctx)
    verify_ovftool(cfg.skip_export)
    await run_steps(make_steps(PrepareOutputDir()), state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
    artifact_state = {
        "generated_data": state.generated,
        "artifact.conf.format": cfg.format,
        "artifact.conf.keep_registered": str(cfg.keep_registered).lower(),
        "artifact.conf.skip_export": str(cfg.skip_export).lower(),
    }
    return make_artifact(cfg.output_directory, cfg.vm_name, artifact_state)

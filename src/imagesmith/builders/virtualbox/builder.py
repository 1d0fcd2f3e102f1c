"""virtualbox-iso: from an ISO to an exported OVF/OVA, Packer 1.6.6's step order (``builder/virtualbox/iso``).

The step list's head and tail are shared with virtualbox-ovf (ovf_builder.py)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

from imagesmith.builders.qemu.steps.media import CreateCd, CreateFloppy
from imagesmith.builders.virtualbox.artifact import make_artifact
from imagesmith.builders.virtualbox.config import VBoxCommonConfig, VirtualBoxIsoConfig
from imagesmith.builders.virtualbox.driver import Driver, find_vboxmanage
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.builders.virtualbox.steps.boot_command import TypeBootCommand
from imagesmith.builders.virtualbox.steps.create_vm import CreateVm, RegisteredVm, SuppressMessages
from imagesmith.builders.virtualbox.steps.disk import CreateDisk
from imagesmith.builders.virtualbox.steps.export import Export
from imagesmith.builders.virtualbox.steps.guest_additions import FindGuestAdditions, UploadGuestAdditions, UploadVersion
from imagesmith.builders.virtualbox.steps.media import AttachFloppy, AttachIsos, RemoveDevices
from imagesmith.builders.virtualbox.steps.network import ConfigureVrdp, DiscoverHttpIp, ForwardPort, ssh_address
from imagesmith.builders.virtualbox.steps.output_dir import KeepOutput, PrepareOutputDir
from imagesmith.builders.virtualbox.steps.run_vm import RunVBoxManage, RunVm
from imagesmith.builders.virtualbox.steps.shutdown import Shutdown
from imagesmith.builders.virtualbox.steps.ssh_key import CleanupTempKeys, SshKeyPair, ssh_keys
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.connect import ConnectSsh
from imagesmith.steps.download import DownloadIso
from imagesmith.steps.http_server import ServeHttp
from imagesmith.steps.provision import ProvisionStep


class MarkSucceeded(Step[VBoxState]):
    """Last step: the build succeeded, so ``keep_registered`` may keep the VM."""

    def __init__(self, create: RegisteredVm) -> None:
        self.create = create

    async def run(self, state: VBoxState) -> None:
        self.create.mark_succeeded()


def hook_data(state: VBoxState) -> GeneratedData:
    cfg = state.config
    host, port = ssh_address(state)
    comm: CommData | None = CommData(
        conn_type=cfg.communicator or "ssh", host=host, port=port, user=cfg.ssh_username, password=cfg.ssh_password,
        ssh_public_key=state.ssh_public_key, ssh_private_key=state.ssh_private_key,
        ssh_private_key_file=cfg.ssh_private_key_file, ssh_agent_auth=bool(cfg.ssh_agent_auth),
        winrm_password=cfg.winrm_password,
    )  # fmt: skip
    if cfg.communicator == "none":
        comm = None
    return GeneratedData(comm=comm, http_ip=state.http_ip, http_port=state.http_port)


def make_head(cfg: VBoxCommonConfig, ctx: BuildContext, download: Step[VBoxState], output: PrepareOutputDir
              ) -> list[Step[VBoxState] | None]:  # fmt: skip
    """What comes before the VM exists: guest additions, the ISO or appliance, output dir, floppy, HTTP,
    the communicator's key."""
    return [
        when(cfg.guest_additions_mode != "disable", FindGuestAdditions()),
        download,
        output,
        *make_media_steps(cfg),
        *make_http_steps(cfg, ctx),
        SshKeyPair(),  # virtualbox-iso and -ovf only: Packer 1.6.6's virtualbox-vm has no StepSshKeyPair
    ]


def make_media_steps(cfg: VBoxCommonConfig) -> list[Step[VBoxState] | None]:
    """StepCreateFloppy and StepCreateCD (qemu's steps: they read only the floppy_*/cd_* settings,
    ctx and floppy_path/cd_path, which VBoxState has too)."""
    return [
        when(cfg.floppy_files or cfg.floppy_dirs, cast(Step[VBoxState], CreateFloppy())),
        when(cfg.cd_files, cast(Step[VBoxState], CreateCd())),
    ]


def make_http_steps(cfg: VBoxCommonConfig, ctx: BuildContext) -> list[Step[VBoxState] | None]:
    """StepHTTPIPDiscover and, with ``http_directory``, StepHTTPServer."""
    serve = ServeHttp[VBoxState](ctx.ui, cfg.http_directory, {}, port_min=cfg.http_port_min,
                                 port_max=cfg.http_port_max, bind_address=cfg.http_bind_address)  # fmt: skip
    return [DiscoverHttpIp(), when(cfg.http_directory, serve)]


def make_tail(cfg: VBoxCommonConfig, ctx: BuildContext, vm: RegisteredVm, output: PrepareOutputDir,
              before_export: Step[VBoxState] | None = None) -> list[Step[VBoxState] | None]:  # fmt: skip
    """From a registered VM to the export (Packer's shared VirtualBox steps, in its order);
    ``before_export``: virtualbox-vm's StepCreateSnapshot."""
    uses_comm = cfg.communicator != "none"
    return [
        ConfigureVrdp(),
        when(cfg.floppy_files or cfg.floppy_dirs, AttachFloppy()),
        when(uses_comm and not cfg.skip_nat_mapping, ForwardPort()),
        RunVBoxManage(cfg.vboxmanage),
        RunVm(),
        TypeBootCommand(),
        when(uses_comm, ConnectSsh[VBoxState](cfg, ctx.ui, ssh_address, ssh_keys)),
        when(uses_comm and cfg.virtualbox_version_file, UploadVersion()),
        when(uses_comm and cfg.guest_additions_mode == "upload", UploadGuestAdditions()),
        ProvisionStep[VBoxState](ctx, hook_data),
        when(uses_comm, CleanupTempKeys()),
        Shutdown(),
        RemoveDevices(bool(getattr(cfg, "bundle_iso", False))),
        RunVBoxManage(cfg.vboxmanage_post),
        before_export,
        Export(),
        MarkSucceeded(vm),
        KeepOutput(output),
    ]


def make_steps(cfg: VirtualBoxIsoConfig, ctx: BuildContext, output: PrepareOutputDir) -> list[Step[VBoxState] | None]:
    """Packer's virtualbox-iso step list (``builder/virtualbox/iso/builder.go``)."""
    download = DownloadIso[VBoxState](ctx.ui, cfg.urls, cfg.iso_checksum, cfg.iso_target_path, cfg.iso_target_extension)
    create = CreateVm(cfg)
    return [
        *make_head(cfg, ctx, download, output),
        SuppressMessages(),
        create,
        CreateDisk(cfg),
        AttachIsos(cfg.iso_interface),
        *make_tail(cfg, ctx, create, output),
    ]


async def run_build(ctx: BuildContext, cfg: VBoxCommonConfig, steps: Sequence[Step[VBoxState] | None]) -> Artifact:
    state = VBoxState(config=cfg, driver=Driver(find_vboxmanage()), ctx=ctx)
    await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
    return make_artifact(cfg.output_directory, {"generated_data": state.generated})


class VirtualBoxIsoBuilder(Builder):
    type_name = "virtualbox-iso"
    config_class = VirtualBoxIsoConfig
    late_render = frozenset({"boot_command", "vboxmanage", "vboxmanage_post", "guest_additions_path",
                             "guest_additions_url"})  # fmt: skip

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: VirtualBoxIsoConfig = self.config.resolved(self.info.build_name, int(time.time()))
        output = PrepareOutputDir()
        return await run_build(ctx, cfg, make_steps(cfg, ctx, output))

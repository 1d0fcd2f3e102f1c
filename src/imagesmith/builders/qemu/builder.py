"""The qemu builder: from an ISO (or a disk image) to a provisioned disk image, Packer's step order."""

from __future__ import annotations

from collections.abc import Sequence

from imagesmith.builders.qemu.artifact import make_artifact
from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.driver import Driver, detect_accelerator
from imagesmith.builders.qemu.layers import (
    FindCachedLayer,
    FlattenDisk,
    QemuLayers,
    ResumeCachedLayer,
    unsupported_reason,
)
from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.boot_command import TypeBootCommand
from imagesmith.builders.qemu.steps.connect import private_keys, ssh_address
from imagesmith.builders.qemu.steps.disks import ConvertDisk, CopyDisk, CreateDisk, ResizeDisk
from imagesmith.builders.qemu.steps.keys import CleanupTempKeys, MakeKeyPair, wants_temporary_key
from imagesmith.builders.qemu.steps.media import CreateCd, CreateFloppy
from imagesmith.builders.qemu.steps.network import ConfigureVnc, DiscoverHttpIp, ForwardPort
from imagesmith.builders.qemu.steps.output_dir import KeepOutput, PrepareOutputDir
from imagesmith.builders.qemu.steps.run_vm import RunVm
from imagesmith.builders.qemu.steps.shutdown import Shutdown
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.connect import ConnectSsh
from imagesmith.steps.download import DownloadIso
from imagesmith.steps.http_server import ServeHttp
from imagesmith.steps.provision import ProvisionStep


class SetIso(Step[QemuState]):
    """``iso_skip_cache``: QEMU reads the ISO from its URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def run(self, state: QemuState) -> None:
        state.iso_path = self.url


def hook_data(state: QemuState) -> GeneratedData:
    """The generated data qemu provides (Packer's ``communicator_config``, ``http_ip``/``http_port``)."""
    cfg = state.config
    host, port = ssh_address(state)
    comm: CommData | None = CommData(
        conn_type=cfg.communicator or "ssh", host=host, port=port, user=cfg.ssh_username, password=cfg.ssh_password,
        ssh_public_key=state.ssh_public_key, ssh_private_key=state.ssh_private_key,
        ssh_private_key_file=cfg.ssh_private_key_file, ssh_agent_auth=bool(cfg.ssh_agent_auth),
        winrm_password=cfg.winrm_password,
    )  # fmt: skip
    if cfg.communicator == "none":
        comm = None  # Packer's StepConnect stores communicator_config only when it connects
    # Packer's qemu always stores http_ip, and http_port 0 without an HTTP server: "10.0.2.2:0".
    return GeneratedData(comm=comm, http_ip=state.http_ip, http_port=state.http_port)


def make_steps(cfg: QemuConfig, ctx: BuildContext, output: PrepareOutputDir) -> list[Step[QemuState] | None]:
    """Packer's qemu step list (``builder/qemu/builder.go``), conditions expressed here."""
    uses_comm = cfg.communicator != "none"
    layers = ctx.find_layer is not None
    converts = not (cfg.skip_compaction and not cfg.disk_compression)
    return [
        when(
            not cfg.iso_skip_cache,
            DownloadIso[QemuState](ctx.ui, cfg.urls, cfg.iso_checksum, cfg.iso_target_path, cfg.iso_target_extension),
        ),
        when(cfg.iso_skip_cache, SetIso(cfg.urls[0] if cfg.urls else "")),
        output,
        when(wants_temporary_key(cfg), MakeKeyPair()),
        when(cfg.floppy_files or cfg.floppy_dirs, CreateFloppy()),
        when(cfg.cd_files, CreateCd()),
        CreateDisk(),
        when(cfg.disk_image and not cfg.use_backing_file, CopyDisk()),
        when(cfg.disk_image and not cfg.skip_resize_disk, ResizeDisk()),
        DiscoverHttpIp(),
        when(
            cfg.http_directory or cfg.http_content,
            ServeHttp[QemuState](
                ctx.ui,
                cfg.http_directory,
                cfg.http_content,
                port_min=cfg.http_port_min,
                port_max=cfg.http_port_max,
                bind_address=cfg.http_bind_address,
            ),
        ),
        when(uses_comm and not cfg.net_bridge, ForwardPort()),
        when(not cfg.disable_vnc, ConfigureVnc()),
        when(layers, FindCachedLayer()),
        RunVm(),
        when(layers, ResumeCachedLayer()),
        TypeBootCommand(),
        when(uses_comm, ConnectSsh[QemuState](cfg, ctx.ui, ssh_address, private_keys)),
        ProvisionStep[QemuState](ctx, hook_data, layers=QemuLayers if layers and not unsupported_reason(cfg) else None),
        when(cfg.ssh_clear_authorized_keys and uses_comm, CleanupTempKeys()),
        Shutdown(),
        when(converts, ConvertDisk()),
        when(layers and not converts, FlattenDisk()),
        KeepOutput(output),
    ]


class QemuBuilder(Builder):
    type_name = "qemu"
    config_class = QemuConfig
    late_render = frozenset({"boot_command", "qemuargs"})

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: QemuConfig = self.config.resolved(self.info.build_name)
        accelerator = cfg.accelerator or await detect_accelerator(cfg.qemu_binary)
        state = QemuState(config=cfg, driver=Driver(cfg.qemu_binary), ctx=ctx, accelerator=accelerator)
        output = PrepareOutputDir()
        steps: Sequence[Step[QemuState] | None] = make_steps(cfg, ctx, output)
        await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        artifact_state = {
            "generated_data": state.generated,
            "diskName": cfg.vm_name,
            "diskType": cfg.format,
            "diskSize": cfg.disk_size,
            "domainType": accelerator,
        }
        return make_artifact(cfg.output_directory, artifact_state)

"""What the qemu builder's steps hand each other."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from imagesmith.bootcommand.qmp import QmpClient
from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.driver import Driver
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildContext, Communicator


@dataclass
class LayerRun:
    """The build's use of provisioner layers (:mod:`imagesmith.builders.qemu.layers`).

    ``top`` is the disk QEMU writes now (an overlay in ``work_dir`` once a layer was saved or
    restored; "" = the main disk); ``parent`` the cached layer that overlay's backing is ("" when
    its chain is this build's own); ``restored`` the layer the VM was started from.
    """

    work_dir: str = ""
    top: str = ""
    parent: str = ""
    restored: str = ""
    device: str = ""
    count: int = 0


@dataclass
class QemuState:
    config: QemuConfig  # resolved: defaults filled in
    driver: Driver
    ctx: BuildContext
    accelerator: str = "tcg"
    iso_path: str = ""
    cd_path: str = ""
    floppy_path: str = ""
    disk_paths: list[str] = field(default_factory=list)
    http_ip: str = ""
    http_port: int = 0
    ssh_host_port: int = 0
    vnc_port: int = 0
    run_dir: str = ""  # private temp dir: the QMP socket lives here
    qmp_socket: str = ""
    qmp: QmpClient | None = None
    communicator: Communicator | None = None
    key_task: asyncio.Future[tuple[str, str]] | None = None  # temporary key pair being made
    ssh_public_key: str = ""
    ssh_private_key: str = ""
    generated: GeneratedData = field(default_factory=GeneratedData)
    incoming: str = ""  # ``-incoming`` URI: the VM starts from a saved layer's memory
    layer: LayerRun = field(default_factory=LayerRun)

    @property
    def disk_path(self) -> str:
        """The main disk: ``output_directory/vm_name``."""
        return f"{self.config.output_directory}/{self.config.vm_name}"

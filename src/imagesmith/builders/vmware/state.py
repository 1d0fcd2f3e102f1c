"""What the vmware builders' steps hand each other."""

from __future__ import annotations

from dataclasses import dataclass, field

from imagesmith.builders.vmware.config import VmwareCommonConfig
from imagesmith.builders.vmware.driver import Driver
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildContext, Communicator


@dataclass
class VmwareState:
    config: VmwareCommonConfig  # resolved: defaults filled in
    driver: Driver
    ctx: BuildContext
    iso_path: str = ""
    floppy_path: str = ""
    cd_path: str = ""
    vmx_path: str = ""
    disk_paths: list[str] = field(default_factory=list)
    #: devices added for the build only (the ISO's CD-ROM, the floppy), disabled by the clean step
    temporary_devices: list[str] = field(default_factory=list)
    #: the network the VM is on ("nat", "hostonly", a vmnet device) for finding addresses
    network: str = "nat"
    http_ip: str = ""
    http_port: int = 0
    vnc_port: int = 0
    vnc_password: str = ""
    guest_ip: str = ""
    communicator: Communicator | None = None
    generated: GeneratedData = field(default_factory=GeneratedData)

"""What the virtualbox builders' steps hand each other."""

from __future__ import annotations

from dataclasses import dataclass, field

from imagesmith.builders.virtualbox.config import VBoxCommonConfig
from imagesmith.builders.virtualbox.driver import Driver
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildContext, Communicator


@dataclass
class VBoxState:
    config: VBoxCommonConfig  # resolved: defaults filled in (a VirtualBoxIsoConfig or VirtualBoxOvfConfig)
    driver: Driver
    ctx: BuildContext
    iso_path: str = ""
    guest_additions_iso: str = ""  # on the host, for attach or upload
    version: str = ""  # VirtualBox's, once asked
    floppy_path: str = ""
    cd_path: str = ""  # the cd_files ISO (StepCreateCD)
    boot_iso_detach: list[str] = field(default_factory=list)  # the boot ISO's detach command
    http_ip: str = ""
    http_port: int = 0
    ssh_host_port: int = 0
    vrdp_port: int = 0
    vm_name: str = ""  # set once the VM exists
    attached: list[list[str]] = field(default_factory=list)  # detach commands still owed
    ssh_private_key: str = ""  # an ephemeral key pair's private half (StepSshKeyPair)
    ssh_public_key: str = ""  # its authorized_keys line, {{ .SSHPublicKey }}
    ssh_key_name: str = ""  # packer_<uuid>, the public key line's comment
    clear_authorized_keys: bool = False  # an ephemeral key: StepCleanupTempKeys removes it
    communicator: Communicator | None = None
    generated: GeneratedData = field(default_factory=GeneratedData)

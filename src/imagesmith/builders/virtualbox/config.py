"""The VirtualBox builders' configuration (shared keys, then virtualbox-iso's): Packer 1.6.6's keys,
defaults and prepare-time errors.

``boot_command``, ``vboxmanage``, ``vboxmanage_post`` and ``guest_additions_path``/``_url`` are
rendered at run time with ``{{ .Name }}`` (and ``.HTTPIP``/``.HTTPPort``/``.SSHPublicKey`` for the
boot command, ``.Version`` for the guest additions). Packer 1.6.6 has no ``nic_type``,
``chipset``, ``firmware``, ``disk_additional_size`` or ``gfx_*`` keys (later releases do), so
neither has imagesmith's virtualbox-iso: a template using them fails as it does with Packer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imagesmith.bootcommand import check_boot_command
from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.steps.checksum import parse_checksum
from imagesmith.template.decode import option
from imagesmith.template.values import Duration

GUEST_ADDITIONS_MODES = ("attach", "disable", "upload")
DEFAULT_VERSION_FILE = ".vbox_version"


@dataclass(frozen=True)
class VBoxCommonConfig(CommunicatorConfig):
    """What every VirtualBox builder block has (Packer's ``vboxcommon`` configs)."""

    http_directory: str = option("")
    http_port_min: int = option(8000)
    http_port_max: int = option(9000)
    http_bind_address: str = option("")
    floppy_files: list[str] = option(factory=list)
    floppy_dirs: list[str] = option(factory=list)
    floppy_label: str = option("")
    cd_files: list[str] = option(factory=list)
    cd_label: str = option("")
    boot_command: list[str] = option(factory=list, render=False)
    boot_wait: Duration = option(Duration(10))
    boot_keygroup_interval: Duration = option(Duration(0))
    format: str = option("")
    export_opts: list[str] = option(factory=list)
    output_filename: str = option("")
    output_directory: str = option("")
    headless: bool = option(False)
    vrdp_bind_address: str = option("")
    vrdp_port_min: int = option(0)
    vrdp_port_max: int = option(0)
    shutdown_command: str = option("")
    shutdown_timeout: Duration = option(Duration(0))
    post_shutdown_delay: Duration = option(Duration(0))
    disable_shutdown: bool = option(False)
    acpi_shutdown: bool = option(False)
    host_port_min: int = option(0)
    host_port_max: int = option(0)
    skip_nat_mapping: bool = option(False)
    ssh_host_port_min: int = option(0)
    ssh_host_port_max: int = option(0)
    ssh_skip_nat_mapping: bool = option(False)
    vboxmanage: list[list[str]] = option(factory=list, render=False)
    vboxmanage_post: list[list[str]] = option(factory=list, render=False)
    virtualbox_version_file: str | None = option(None)
    guest_additions_mode: str = option("")
    guest_additions_interface: str = option("")
    guest_additions_path: str = option("", render=False)
    guest_additions_sha256: str = option("")
    guest_additions_url: str = option("", render=False)
    keep_registered: bool = option(False)
    skip_export: bool = option(False)
    vm_name: str = option("")

    def common_defaults(self, build_name: str, now: int) -> dict[str, Any]:
        """Packer's defaults for the shared keys (``now``: the Unix time in the default VM name)."""
        vm_name = self.vm_name or f"packer-{build_name}-{now}"
        return dict(
            format=self.format or "ovf",
            output_filename=self.output_filename or vm_name,
            output_directory=self.output_directory or f"output-{build_name}",
            vrdp_bind_address=self.vrdp_bind_address or "127.0.0.1",
            vrdp_port_min=self.vrdp_port_min or 5900,
            vrdp_port_max=self.vrdp_port_max or 6000,
            shutdown_timeout=self.shutdown_timeout or Duration(300),
            host_port_min=self.host_port_min or self.ssh_host_port_min or 2222,
            host_port_max=self.host_port_max or self.ssh_host_port_max or 4444,
            skip_nat_mapping=self.skip_nat_mapping or self.ssh_skip_nat_mapping,
            virtualbox_version_file=(
                DEFAULT_VERSION_FILE if self.virtualbox_version_file is None else self.virtualbox_version_file
            ),
            guest_additions_mode=self.guest_additions_mode or "upload",
            guest_additions_interface=self.guest_additions_interface or "ide",
            guest_additions_path=self.guest_additions_path or "VBoxGuestAdditions.iso",
            guest_additions_sha256=self.guest_additions_sha256.lower(),
            vm_name=vm_name,
        )

    def check_common(self) -> Iterator[str]:
        """The shared prepare-time errors, in Packer's order."""
        yield from self.check_communicator()
        if self.format not in ("", "ovf", "ova"):
            # Packer 1.6.6 reports this twice (its ExportConfig is prepared twice)
            yield "invalid format, only 'ovf' or 'ova' are allowed"
            yield "invalid format, only 'ovf' or 'ova' are allowed"
        for low, high, what in ((self.vrdp_port_min, self.vrdp_port_max, "vrdp_port"),
                                (self.host_port_min, self.host_port_max, "host_port")):  # fmt: skip
            if low and high and low > high:
                yield f"{what}_min must be less than {what}_max"
        if self.communicator == "none" and self.virtualbox_version_file not in (None, ""):
            yield "virtualbox_version_file has to be an empty string when communicator = 'none'."
        if self.guest_additions_mode not in ("", *GUEST_ADDITIONS_MODES):
            yield "guest_additions_mode is invalid. Must be one of: [disable attach upload]"
        elif self.communicator == "none" and self.guest_additions_mode in ("", "upload"):
            yield "communicator must not be 'none' when guest_additions_mode = 'upload'."
        yield from check_boot_command(self.boot_command)


@dataclass(frozen=True)
class VirtualBoxIsoConfig(VBoxCommonConfig):
    """One ``"type": "virtualbox-iso"`` builder block."""

    iso_url: str = option("")
    iso_urls: list[str] = option(factory=list)
    iso_checksum: str = option("")
    iso_target_path: str = option("")
    iso_target_extension: str = option("iso")
    cpus: int = option(0)
    memory: int = option(0)
    sound: str = option("")
    usb: bool = option(False)
    bundle_iso: bool = option(False)
    guest_os_type: str = option("")
    disk_size: int = option(0)
    hard_drive_discard: bool = option(False)
    hard_drive_interface: str = option("")
    sata_port_count: int = option(0)
    nvme_port_count: int = option(0)
    hard_drive_nonrotational: bool = option(False)
    iso_interface: str = option("")

    def resolved(self, build_name: str, now: int) -> VirtualBoxIsoConfig:
        """A copy with Packer's defaults filled in (``now``: the Unix time in the default VM name)."""
        iso_interface = self.iso_interface or "ide"
        return dataclasses.replace(
            self,
            **{
                **self.common_defaults(build_name, now),
                # unset, the guest additions go where the boot ISO goes (Packer 1.6.6 on SATA: port 2)
                "guest_additions_interface": self.guest_additions_interface or iso_interface,
            },
            cpus=self.cpus or 1,
            memory=self.memory or 512,
            sound=self.sound or "none",
            guest_os_type=self.guest_os_type or "Other",
            disk_size=self.disk_size or 40000,
            hard_drive_interface=self.hard_drive_interface or "ide",
            sata_port_count=self.sata_port_count or 1,
            nvme_port_count=self.nvme_port_count or 1,
            iso_interface=iso_interface,
        )

    @property
    def urls(self) -> list[str]:
        return list(self.iso_urls) if self.iso_urls else ([self.iso_url] if self.iso_url else [])

    def check(self) -> Iterator[str]:
        """Every prepare-time error of Packer's virtualbox-iso ``Config.Prepare``."""
        yield from self._check_iso()
        yield from self.check_common()
        if self.hard_drive_interface not in ("", "ide", "sata", "scsi", "pcie"):
            yield "hard_drive_interface can only be ide, sata, pcie or scsi"
        if self.sata_port_count > 30:
            yield "sata_port_count cannot be greater than 30"
        if self.nvme_port_count > 255:
            yield "nvme_port_count cannot be greater than 255"
        if self.iso_interface not in ("", "ide", "sata"):
            yield "iso_interface can only be ide or sata"

    def _check_iso(self) -> Iterator[str]:
        if self.iso_url and self.iso_urls:
            yield "Only one of iso_url or iso_urls must be specified"
        elif not self.urls:
            yield "One of iso_url or iso_urls must be specified"
        if self.urls:
            try:
                parse_checksum(self.iso_checksum)
            except ValueError as exc:
                yield str(exc)

"""The vmware-iso and vmware-vmx builders' configuration: Packer 1.6.6's keys, defaults and prepare-time rules.

Only the local desktop drivers are supported (Player and Workstation on Linux): ``remote_type``
(ESXi) is refused at validation. ``boot_command`` and ``tools_upload_path`` are rendered at run
time, as in Packer. Defaults that depend on the build name are filled in by ``resolved``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.builders.vm_common import (
    HttpConfig,
    MediaConfig,
    ShutdownConfig,
    VmOutputConfig,
    VncBootConfig,
)
from imagesmith.builders.vmware.hardware import check_parallel, check_serial
from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.steps.checksum import parse_checksum
from imagesmith.template.decode import option

FORMATS = ("ova", "ovf", "vmx")
CDROM_ADAPTERS = ("ide", "sata", "scsi")


@dataclass(frozen=True)
class VmwareCommonConfig(CommunicatorConfig, HttpConfig, MediaConfig, VncBootConfig, ShutdownConfig, VmOutputConfig):
    """The keys vmware-iso and vmware-vmx share (Packer's ``vmwcommon`` configs); the HTTP, media,
    boot, shutdown and output keys come from :mod:`imagesmith.builders.vm_common`."""

    http_interface: str = option("")
    # driver (DriverConfig); the remote keys are accepted and refused if used
    cleanup_remote_cache: bool = option(False)
    fusion_app_path: str = option("")
    remote_type: str = option("")
    remote_datastore: str = option("")
    remote_cache_datastore: str = option("")
    remote_cache_directory: str = option("")
    remote_host: str = option("")
    remote_port: int = option(0)
    remote_username: str = option("")
    remote_password: str = option("")
    remote_private_key_file: str = option("")
    skip_validate_credentials: bool = option(False)
    # output and run
    remote_output_directory: str = option("")
    vnc_bind_address: str = option("")
    vnc_port_min: int = option(0)
    vnc_port_max: int = option(0)
    vnc_disable_password: bool = option(False)
    vnc_over_websocket: bool = option(False)
    insecure_connection: bool = option(False)
    # tools
    tools_upload_flavor: str = option("")
    tools_upload_path: str = option("", render=False)
    tools_source_path: str = option("")
    # vmx (VMXConfig)
    vmx_data: dict[str, str] = option(factory=dict)
    vmx_data_post: dict[str, str] = option(factory=dict)
    vmx_remove_ethernet_interfaces: bool = option(False)
    display_name: str = option("")
    # export
    format: str = option("")
    ovftool_options: list[str] = option(factory=list)
    skip_export: bool = option(False)
    keep_registered: bool = option(False)
    skip_compaction: bool = option(False)
    # disks (DiskConfig)
    disk_additional_size: list[int] = option(factory=list)
    disk_adapter_type: str = option("")
    vmdk_name: str = option("")
    disk_type_id: str = option("")

    def resolved_common(self, build_name: str) -> dict[str, object]:
        """Packer's Prepare-time defaults shared by both builders (as ``dataclasses.replace`` keywords)."""
        fmt = self.format or "vmx"
        return {
            "output_directory": self.output_directory or f"output-{build_name}",
            "vm_name": self.vm_name or f"packer-{build_name}",
            "vnc_port_min": self.vnc_port_min or 5900,
            "vnc_port_max": self.vnc_port_max or 6000,
            "vnc_bind_address": self.vnc_bind_address or "127.0.0.1",
            "vmdk_name": self.vmdk_name or "disk",
            "disk_adapter_type": self.disk_adapter_type or "lsilogic",
            "disk_type_id": self.disk_type_id or "1",
            "format": fmt,
            "skip_export": self.skip_export or fmt == "vmx",
            "tools_upload_path": self.tools_upload_path or "{{ .Flavor }}.iso",
        }

    def check_common(self) -> Iterator[str]:
        yield from self.check_communicator()
        yield from self.check_media()
        if self.vnc_over_websocket:
            yield "'vnc_over_websocket' can only be used with remote VMWare builds."
        elif (self.vnc_port_min or 5900) > (self.vnc_port_max or 6000):
            yield "vnc_port_min must be less than vnc_port_max"
        if self.vnc_port_min < 0:
            yield "vnc_port_min must be positive"
        if self.remote_type:
            if not self.remote_host:
                yield "remote_host must be specified"
            if self.remote_type != "esx5":
                yield "Only 'esx5' value is accepted for remote_type"
            else:
                yield "remote_type esx5 (ESXi) is not supported by imagesmith: only local Player/Workstation drivers"
        if not self.tools_upload_path and self.tools_source_path and not self.tools_upload_flavor:
            yield (
                "If you provide a tools_source_path, you must also provide either a tools_upload_flavor "
                "or a tools_upload_path."
            )
        if self.format and self.format not in FORMATS:
            yield "format must be one of ova, ovf, or vmx"
        yield from self._check_unsupported()
        yield from self.check_http()
        yield from self.check_boot()

    def _check_unsupported(self) -> Iterator[str]:
        """What imagesmith's vmware builders refuse rather than do half-way (docs/vmware.md)."""
        if self.tools_upload_flavor:
            yield "tools_upload_flavor is not supported by imagesmith's vmware builders yet"


@dataclass(frozen=True)
class VmwareIsoConfig(VmwareCommonConfig):
    """One ``"type": "vmware-iso"`` builder block."""

    iso_checksum: str = option("")
    iso_url: str = option("")
    iso_urls: list[str] = option(factory=list)
    iso_target_path: str = option("")
    iso_target_extension: str = option("iso")
    # hardware (HWConfig)
    cpus: int = option(0)
    memory: int = option(0)
    cores: int = option(0)
    network: str = option("")
    network_adapter_type: str = option("")
    network_name: str = option("")
    sound: bool = option(False)
    usb: bool = option(False)
    serial: str = option("")
    parallel: str = option("")
    # vmware-iso
    disk_size: int = option(0)
    cdrom_adapter_type: str = option("")
    guest_os_type: str = option("")
    version: str = option("")
    vmx_disk_template_path: str = option("")
    vmx_template_path: str = option("")

    def resolved(self, build_name: str) -> VmwareIsoConfig:
        """A copy with Packer's defaults filled in (``Config.Prepare``'s assignments)."""
        return dataclasses.replace(
            self,
            **self.resolved_common(build_name),  # type: ignore[arg-type]
            disk_size=self.disk_size or 40000,
            guest_os_type=self.guest_os_type or "other",
            version=self.version or "9",
            network=self.network or "nat",
            serial=self.serial or "none",
            parallel=self.parallel or "none",
            cdrom_adapter_type=self.cdrom_adapter_type.lower(),
        )

    @property
    def urls(self) -> list[str]:
        return list(self.iso_urls) if self.iso_urls else ([self.iso_url] if self.iso_url else [])

    def check(self) -> Iterator[str]:
        """Every prepare-time error of Packer's vmware-iso ``Config.Prepare``, collected."""
        yield from self.check_common()
        if self.iso_url and self.iso_urls:
            yield "Only one of iso_url or iso_urls must be specified"
        elif not self.urls:
            yield "One of iso_url or iso_urls must be specified"
        if self.urls:
            try:
                parse_checksum(self.iso_checksum)
            except ValueError as exc:
                yield str(exc)
        for value, what in ((self.cpus, "cpus"), (self.memory, "memory"), (self.cores, "cores")):
            if value < 0:
                unit = "amount of memory" if what == "memory" else f"number of {what}"
                yield f"An invalid {unit} was specified ({what} < 0): {value}"
        if self.cdrom_adapter_type and self.cdrom_adapter_type.lower() not in CDROM_ADAPTERS:
            yield "cdrom_adapter_type must be one of ide, sata, or scsi"
        yield from check_serial(self.serial or "none")
        yield from check_parallel(self.parallel or "none")


@dataclass(frozen=True)
class VmwareVmxConfig(VmwareCommonConfig):
    """One ``"type": "vmware-vmx"`` builder block: clone ``source_path`` and provision the clone."""

    source_path: str = option("")
    linked: bool = option(False)

    def resolved(self, build_name: str) -> VmwareVmxConfig:
        """Packer's defaults; the VM's default name carries the run's start time (``packer-NAME-UNIXTIME``)."""
        from imagesmith.template.context import run_start_time

        common = self.resolved_common(build_name)
        common["vm_name"] = self.vm_name or f"packer-{build_name}-{int(run_start_time().timestamp())}"
        return dataclasses.replace(self, **common)  # type: ignore[arg-type]

    def check(self) -> Iterator[str]:
        yield from self.check_common()
        if not self.source_path:
            yield "source_path is blank, but is required"
        elif not os.path.exists(self.source_path):
            yield f"source_path is invalid: stat {self.source_path}: no such file or directory"

"""vmware-iso's first ``.vmx``: the template data of Packer's ``stepCreateVMX`` and the file it renders.

Pure functions: the step gives them the resolved config, the ISO path, the network map (to
tell a network name from a custom vmnet device) and, for ``vmx_template_path``, a renderer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from imagesmith.builders.vmware.config import VmwareIsoConfig
from imagesmith.builders.vmware.hardware import parse_parallel, parse_serial
from imagesmith.builders.vmware.vmx import VmxData, parse_vmx
from imagesmith.builders.vmware.vmx_defaults import (
    ADDITIONAL_DISK_ROWS,
    DISKS,
    FIXED_HARDWARE,
    NETWORK,
    NETWORK_NAME_ROW,
    PCI_BRIDGES,
    PORTS,
    render_rows,
)

#: renders a user's template text with the given data (``{{ .Name }}`` ...)
Renderer = Callable[[str, Mapping[str, object]], str]


@dataclass(frozen=True)
class DiskAndCdrom:
    """Which buses the disk and the CD-ROM sit on (Packer's ``DefaultDiskAndCDROMTypes``)."""

    scsi_present: str = "FALSE"
    scsi_adapter: str = "lsilogic"
    sata_present: str = "FALSE"
    nvme_present: str = "FALSE"
    disk_type: str = "scsi"
    cdrom_type: str = "ide"
    cdrom_unit: str = "0"

    @property
    def cdrom_device(self) -> str:
        return f"{self.cdrom_type}0:{self.cdrom_unit}"

    def fields(self) -> dict[str, str]:
        return {
            "SCSI_Present": self.scsi_present, "SCSI_diskAdapterType": self.scsi_adapter,
            "SATA_Present": self.sata_present, "NVME_Present": self.nvme_present, "DiskType": self.disk_type,
            "CDROMType": self.cdrom_type, "CDROMType_PrimarySecondary": self.cdrom_unit, "CDROM_PATH": "",
        }  # fmt: skip


_BUSES = {
    "ide": DiskAndCdrom(disk_type="ide", cdrom_type="ide", cdrom_unit="1"),
    "sata": DiskAndCdrom(sata_present="TRUE", disk_type="sata", cdrom_type="sata", cdrom_unit="1"),
    "nvme": DiskAndCdrom(nvme_present="TRUE", sata_present="TRUE", disk_type="nvme", cdrom_type="sata"),
}


def disk_and_cdrom(disk_adapter: str, cdrom_adapter: str) -> DiskAndCdrom:
    """The buses for ``disk_adapter_type`` and ``cdrom_adapter_type``, Packer's rules included:
    ``scsi`` means ``lsilogic``; any other unknown type is taken as a SCSI controller model; a
    CD-ROM on the disk's own adapter type becomes unit 1, elsewhere unit 0."""
    adapter = disk_adapter.lower()
    if adapter in _BUSES:
        buses = _BUSES[adapter]
    else:
        adapter = "lsilogic" if adapter == "scsi" else adapter
        buses = DiskAndCdrom(scsi_present="TRUE", scsi_adapter=adapter)
    if not cdrom_adapter:
        cdrom_adapter = buses.cdrom_type
    else:
        buses = _replace(buses, cdrom_unit="1" if cdrom_adapter == adapter else "0")
    if cdrom_adapter == "ide":
        buses = _replace(buses, cdrom_type="ide")
    elif cdrom_adapter == "sata":
        buses = _replace(buses, sata_present="TRUE", cdrom_type="sata")
    elif cdrom_adapter == "scsi":
        buses = _replace(buses, scsi_present="TRUE", cdrom_type="scsi")
    return buses


def _replace(buses: DiskAndCdrom, **changes: str) -> DiskAndCdrom:
    import dataclasses

    return dataclasses.replace(buses, **changes)


def network_fields(network: str, known_networks: frozenset[str] | None) -> tuple[str, str]:
    """``(connectionType, vnet)``: a network named in the netmap is used by name, anything else is
    a custom vmnet device; without a netmap (``None``) Packer falls back to ``nat``."""
    if known_networks is None:
        return "nat", network
    if network.lower() in known_networks:
        return network, ""
    return "custom", network


def relative_iso_path(iso_path: str, template_path: str) -> str:
    """Packer's ``filepath.Rel(vmx_template_path, iso_path)`` when it succeeds, else ``iso_path``."""
    if os.path.isabs(iso_path) != os.path.isabs(template_path or "."):
        return iso_path
    return os.path.relpath(iso_path, template_path or ".")


def make_template_data(cfg: VmwareIsoConfig, iso_path: str, connection: tuple[str, str]) -> dict[str, str]:
    """The fields the ``.vmx`` template sees (Packer's ``vmxTemplateData``)."""
    serial = parse_serial(cfg.serial)
    parallel = parse_parallel(cfg.parallel)
    iso = relative_iso_path(iso_path, cfg.vmx_template_path)
    data = {
        "Name": cfg.vm_name, "GuestOS": cfg.guest_os_type, "ISOPath": iso,
        "Version": cfg.version, "CpuCount": str(cfg.cpus) if cfg.cpus > 0 else "",
        "MemorySize": str(cfg.memory) if cfg.memory > 0 else "512", "DiskName": cfg.vmdk_name,
        "Network_Type": connection[0], "Network_Device": connection[1],
        "Network_Adapter": cfg.network_adapter_type.lower() or "e1000", "Network_Name": cfg.network_name,
        "Sound_Present": "TRUE" if cfg.sound else "FALSE", "Usb_Present": "TRUE" if cfg.usb else "FALSE",
        "Serial_Present": "TRUE" if serial.present else "FALSE", "Serial_Type": serial.type,
        "Serial_Endpoint": serial.endpoint, "Serial_Host": serial.host, "Serial_Yield": serial.yield_,
        "Serial_Filename": serial.filename, "Serial_Auto": serial.auto,
        "Parallel_Present": "TRUE" if parallel.present else "FALSE", "Parallel_Bidirectional": parallel.bidirectional,
        "Parallel_Filename": parallel.filename, "Parallel_Auto": parallel.auto,
    }  # fmt: skip
    return {**data, **disk_and_cdrom(cfg.disk_adapter_type, cfg.cdrom_adapter_type).fields()}


def default_template(fields: Mapping[str, str]) -> str:
    """The default ``.vmx`` text for ``fields`` (before additional disks)."""
    network = (*NETWORK, NETWORK_NAME_ROW) if fields.get("Network_Name") else NETWORK
    return render_rows((*FIXED_HARDWARE, *PCI_BRIDGES, *network, *DISKS, *PORTS), dict(fields))


def additional_disk_numbers(count: int) -> list[int]:
    """SCSI unit numbers of ``disk_additional_size``'s disks: 1, 2, ... skipping 7 (the controller's)."""
    return [i + 1 if i + 1 < 7 else i + 2 for i in range(count)]


def make_vmx(
    cfg: VmwareIsoConfig,
    fields: Mapping[str, str],
    template: str | None = None,
    disk_template: str | None = None,
    render: Renderer | None = None,
) -> VmxData:
    """The ``.vmx`` data: the template (the default, or ``template`` rendered), additional disks
    appended, then an empty ``numvcpus`` dropped and ``cores`` applied."""
    text = default_template(fields) if template is None else _render(render, template, fields)
    for number in additional_disk_numbers(len(cfg.disk_additional_size)):
        disk = {"DiskNumber": str(number), "DiskName": cfg.vmdk_name}
        text += (
            render_rows(ADDITIONAL_DISK_ROWS, disk) if disk_template is None else _render(render, disk_template, disk)
        )
    data = parse_vmx(text)
    if data.get("numvcpus") == "":
        del data["numvcpus"]
    if cfg.cores > 0:
        data["cpuid.corespersocket"] = str(cfg.cores)
    return data


def _render(render: Renderer | None, template: str, fields: Mapping[str, object]) -> str:
    if render is None:
        raise ValueError("a user template needs a renderer")
    return render(template, fields)

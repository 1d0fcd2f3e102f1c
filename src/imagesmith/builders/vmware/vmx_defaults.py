"""The ``.vmx`` vmware-iso writes when no ``vmx_template_path`` is given, as (key, value) rows.

Values name the fields of :class:`VmxTemplateData` in ``{braces}``; the rows are rendered to
``key = "value"`` lines and read back with :func:`~imagesmith.builders.vmware.vmx.parse_vmx`, so
quirks of Packer's own round trip (a later row wins, quotes trimmed) are kept. ``NETWORK_NAME_ROW``
is added only when ``network_name`` is set; ``ADDITIONAL_DISK_ROWS`` once per additional disk.
"""

from __future__ import annotations

FIXED_HARDWARE = (
    (".encoding", "UTF-8"),
    ("displayName", "{Name}"),
    ("numvcpus", "{CpuCount}"),
    ("memsize", "{MemorySize}"),
    ("config.version", "8"),
    ("virtualHW.productCompatibility", "hosted"),
    ("virtualHW.version", "{Version}"),
    ("nvram", "{Name}.nvram"),
    ("floppy0.present", "FALSE"),
    ("bios.bootOrder", "hdd,cdrom"),
    ("extendedConfigFile", "{Name}.vmxf"),
    ("gui.fullScreenAtPowerOn", "FALSE"),
    ("gui.viewModeAtPowerOn", "windowed"),
    ("hgfs.linkRootShare", "TRUE"),
    ("hgfs.mapRootShare", "TRUE"),
    ("isolation.tools.hgfs.disable", "FALSE"),
    ("proxyApps.publishToHost", "FALSE"),
    ("replay.filename", ""),
    ("replay.supported", "FALSE"),
    ("checkpoint.vmState", ""),
    ("vmotion.checkpointFBSize", "65536000"),
    ("cleanShutdown", "TRUE"),
    ("powerType.powerOff", "soft"),
    ("powerType.powerOn", "soft"),
    ("powerType.reset", "soft"),
    ("powerType.suspend", "soft"),
    ("guestOS", "{GuestOS}"),
    ("tools.syncTime", "TRUE"),
    ("tools.upgrade.policy", "upgradeAtPowerCycle"),
)

PCI_BRIDGES = (
    ("pciBridge0.pciSlotNumber", "17"),
    ("pciBridge0.present", "TRUE"),
    *(
        row
        for number, slot in ((4, 21), (5, 22), (6, 23), (7, 24))
        for row in (
            (f"pciBridge{number}.functions", "8"),
            (f"pciBridge{number}.pciSlotNumber", str(slot)),
            (f"pciBridge{number}.present", "TRUE"),
            (f"pciBridge{number}.virtualDev", "pcieRootPort"),
        )
    ),
    ("ehci.present", "TRUE"),
    ("ehci.pciSlotNumber", "34"),
    ("vmci0.present", "TRUE"),
    ("vmci0.id", "1861462627"),
    ("vmci0.pciSlotNumber", "35"),
)

NETWORK = (
    ("ethernet0.addressType", "generated"),
    ("ethernet0.bsdName", "en0"),
    ("ethernet0.connectionType", "{Network_Type}"),
    ("ethernet0.vnet", "{Network_Device}"),
    ("ethernet0.displayName", "Ethernet"),
    ("ethernet0.linkStatePropagation.enable", "FALSE"),
    ("ethernet0.pciSlotNumber", "33"),
    ("ethernet0.present", "TRUE"),
    ("ethernet0.virtualDev", "{Network_Adapter}"),
    ("ethernet0.wakeOnPcktRcv", "FALSE"),
)
NETWORK_NAME_ROW = ("ethernet0.networkName", "{Network_Name}")

DISKS = (
    ("scsi0.present", "{SCSI_Present}"),
    ("scsi0.virtualDev", "{SCSI_diskAdapterType}"),
    ("scsi0.pciSlotNumber", "16"),
    ("scsi0:0.redo", ""),
    ("sata0.present", "{SATA_Present}"),
    ("nvme0.present", "{NVME_Present}"),
    ("{DiskType}0:0.present", "TRUE"),
    ("{DiskType}0:0.fileName", "{DiskName}.vmdk"),
    ("{CDROMType}0:{CDROMType_PrimarySecondary}.present", "TRUE"),
    ("{CDROMType}0:{CDROMType_PrimarySecondary}.fileName", "{ISOPath}"),
    ("{CDROMType}0:{CDROMType_PrimarySecondary}.deviceType", "cdrom-image"),
)

PORTS = (
    ("sound.startConnected", "{Sound_Present}"),
    ("sound.present", "{Sound_Present}"),
    ("sound.fileName", "-1"),
    ("sound.autodetect", "TRUE"),
    ("usb.pciSlotNumber", "32"),
    ("usb.present", "{Usb_Present}"),
    ("serial0.present", "{Serial_Present}"),
    ("serial0.startConnected", "{Serial_Present}"),
    ("serial0.fileName", "{Serial_Filename}"),
    ("serial0.autodetect", "{Serial_Auto}"),
    ("serial0.fileType", "{Serial_Type}"),
    ("serial0.yieldOnMsrRead", "{Serial_Yield}"),
    ("serial0.pipe.endPoint", "{Serial_Endpoint}"),
    ("serial0.tryNoRxLoss", "{Serial_Host}"),
    ("parallel0.present", "{Parallel_Present}"),
    ("parallel0.startConnected", "{Parallel_Present}"),
    ("parallel0.fileName", "{Parallel_Filename}"),
    ("parallel0.autodetect", "{Parallel_Auto}"),
    ("parallel0.bidirectional", "{Parallel_Bidirectional}"),
)

ADDITIONAL_DISK_ROWS = (
    ("scsi0:{DiskNumber}.fileName", "{DiskName}-{DiskNumber}.vmdk"),
    ("scsi0:{DiskNumber}.present", "TRUE"),
    ("scsi0:{DiskNumber}.redo", ""),
)


def render_rows(rows: tuple[tuple[str, str], ...], fields: dict[str, str]) -> str:
    """The rows as ``.vmx`` lines with ``fields`` filled in."""
    return "".join(f'{key.format(**fields)} = "{value.format(**fields)}"\n' for key, value in rows)

"""Every VBoxManage command line the VirtualBox builders run, built by pure functions.

Each function returns the arguments after ``VBoxManage`` exactly as Packer 1.6.6 passes them
(``builder/virtualbox/common`` and ``builder/virtualbox/iso``); the driver is the only code that
runs them. Tests compare these lists with Packer's, recorded by the VBoxManage stand-in.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

IDE, SATA, SCSI, NVME, FLOPPY = (
    "IDE Controller",
    "SATA Controller",
    "SCSI Controller",
    "NVMe Controller",
    "Floppy Controller",
)
CONTROLLER_OF = {"ide": IDE, "sata": SATA, "scsi": SCSI, "pcie": NVME}
NAT_RULE = "packercomm"


def make_suppress_messages_commands(year: int | None = None) -> list[list[str]]:
    """StepSuppressMessages: four ``setextradata global`` (Packer sends them in Go map order)."""
    next_year = (year or datetime.date.today().year) + 1
    extra = {
        "GUI/RegistrationData": "triesLeft=0",
        "GUI/SuppressMessages": "confirmInputCapture,remindAboutAutoCapture,remindAboutMouseIntegrationOff,"
        "remindAboutMouseIntegrationOn,remindAboutWrongColorDepth",
        "GUI/UpdateDate": f"1 d, {next_year}-01-01, stable",
        "GUI/UpdateCheckCount": "60",
    }
    return [["setextradata", "global", key, value] for key, value in extra.items()]


def make_create_vm_commands(name: str, os_type: str, cpus: int, memory: int, usb: bool, sound: str) -> list[list[str]]:
    """iso's stepCreateVM: ``createvm`` then one ``modifyvm`` per setting."""
    audio = ["--audio", sound] if sound.lower() == "none" else ["--audio", sound, "--audioin", "on", "--audioout", "on"]
    return [
        ["createvm", "--name", name, "--ostype", os_type, "--register"],
        ["modifyvm", name, "--boot1", "disk", "--boot2", "dvd", "--boot3", "none", "--boot4", "none"],
        ["modifyvm", name, "--cpus", str(cpus)],
        ["modifyvm", name, "--memory", str(memory)],
        ["modifyvm", name, "--usb", "on" if usb else "off"],
        ["modifyvm", name, *audio],
    ]


def make_create_hd_command(path: str, size_mb: int) -> list[str]:
    return ["createhd", "--filename", path, "--size", str(size_mb), "--format", "VDI", "--variant", "Standard"]


def make_storagectl_command(vm: str, interface: str, port_count: int = 1, old_sata: bool = False) -> list[str]:
    """The controller for ``interface`` (ide, sata, scsi, pcie; Packer's CreateSATA/SCSI/NVMeController)."""
    base = ["storagectl", vm, "--name", CONTROLLER_OF[interface], "--add", interface]
    if interface == "sata":
        return [*base, "--sataportcount" if old_sata else "--portcount", str(port_count)]
    if interface == "scsi":
        return [*base, "--controller", "LSILogic"]
    if interface == "pcie":
        return [*base, "--controller", "NVMe", "--portcount", str(port_count)]
    return base


def make_attach_disk_command(vm: str, interface: str, path: str, nonrotational: bool, discard: bool) -> list[str]:
    """The hard disk: port 0, device 0 of the chosen controller."""
    return [
        "storageattach", vm, "--storagectl", CONTROLLER_OF[interface], "--port", "0", "--device", "0",
        "--type", "hdd", "--medium", path, "--nonrotational", _on(nonrotational), "--discard", _on(discard),
    ]  # fmt: skip


# StepAttachISOs' slots: kind -> (port, device) on the IDE controller, port on the SATA one (device 0).
ISO_SLOTS = {"boot": (("0", "1"), "1"), "guest_additions": (("1", "0"), "2"), "cd_files": (("1", "1"), "3")}


def iso_slot(interface: str, kind: str) -> tuple[str, str, str]:
    """(controller, port, device) of the boot ISO, the guest additions or the ``cd_files`` ISO."""
    (ide_port, ide_device), sata_port = ISO_SLOTS[kind]
    if interface == "sata":
        return SATA, sata_port, "0"
    return IDE, ide_port, ide_device


def make_attach_dvd_command(vm: str, interface: str, medium: str, kind: str = "boot") -> list[str]:
    """Attach ``medium`` (or ``none`` to detach) as a DVD in the slot of ``kind`` (see ISO_SLOTS)."""
    controller, port, device = iso_slot(interface, kind)
    return ["storageattach", vm, "--storagectl", controller, "--port", port, "--device", device,
            "--type", "dvddrive", "--medium", medium]  # fmt: skip


def make_floppy_commands(vm: str, path: str) -> list[list[str]]:
    """StepAttachFloppy: a floppy controller, then the image on port 0 device 0."""
    return [
        ["storagectl", vm, "--name", FLOPPY, "--add", "floppy"],
        [
            "storageattach",
            vm,
            "--storagectl",
            FLOPPY,
            "--port",
            "0",
            "--device",
            "0",
            "--type",
            "fdd",
            "--medium",
            path,
        ],
    ]


def make_detach_floppy_command(vm: str) -> list[str]:
    return ["storageattach", vm, "--storagectl", FLOPPY, "--port", "0", "--device", "0", "--medium", "none"]


def make_remove_floppy_controller_command(vm: str) -> list[str]:
    return ["storagectl", vm, "--name", FLOPPY, "--remove"]


def make_vrdp_command(vm: str, address: str, port: int) -> list[str]:
    return ["modifyvm", vm, "--vrdeaddress", address, "--vrdeauthtype", "null", "--vrde", "on", "--vrdeport", str(port)]


def make_nic_nat_command(vm: str) -> list[str]:
    return ["modifyvm", vm, "--nic1", "nat"]


def make_nat_rule_command(vm: str, host_port: int, guest_port: int) -> list[str]:
    return ["modifyvm", vm, "--natpf1", f"{NAT_RULE},tcp,127.0.0.1,{host_port},,{guest_port}"]


def make_delete_nat_rule_command(vm: str) -> list[str]:
    return ["modifyvm", vm, "--natpf1", "delete", NAT_RULE]


def make_start_command(vm: str, headless: bool) -> list[str]:
    return ["startvm", vm, "--type", "headless" if headless else "gui"]


def make_scancode_command(vm: str, codes: Sequence[str]) -> list[str]:
    return ["controlvm", vm, "keyboardputscancode", *codes]


def make_poweroff_command(vm: str) -> list[str]:
    return ["controlvm", vm, "poweroff"]


def make_acpi_command(vm: str) -> list[str]:
    return ["controlvm", vm, "acpipowerbutton"]


def make_showvminfo_command(vm: str) -> list[str]:
    return ["showvminfo", vm, "--machinereadable"]


def make_export_command(vm: str, output: str, export_opts: Sequence[str]) -> list[str]:
    """StepExport's call; Packer 1.6.6 appends another ``--iso`` when the options ask for ISOs."""
    extra = ["--iso"] if "--iso" in export_opts or "-I" in export_opts else []
    return ["export", vm, "--output", output, *export_opts, *extra]


def make_import_command(vm: str, path: str, flags: Sequence[str]) -> list[str]:
    return ["import", path, "--vsys", "0", "--vmname", vm, *flags]


def make_snapshot_list_command(vm: str) -> list[str]:
    return ["snapshot", vm, "list", "--machinereadable"]


def make_snapshot_take_command(vm: str, name: str) -> list[str]:
    return ["snapshot", vm, "take", name]


def make_snapshot_restore_command(vm: str, uuid: str) -> list[str]:
    """Restore by UUID: Packer's SetSnapshot never passes the snapshot's (possibly ambiguous) name."""
    return ["snapshot", vm, "restore", uuid]


def make_snapshot_delete_command(vm: str, uuid: str) -> list[str]:
    return ["snapshot", vm, "delete", uuid]


def make_delete_command(vm: str) -> list[str]:
    return ["unregistervm", vm, "--delete"]


def _on(flag: bool) -> str:
    return "on" if flag else "off"

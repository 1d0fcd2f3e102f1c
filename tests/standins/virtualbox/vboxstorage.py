"""The VBoxManage stand-in's media: ``createhd`` (a real disk made with qemu-img), ``storagectl``
and ``storageattach``."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from vboxargs import pairs, require
from vboxstate import VBoxError, load_machine, save_machine, syntax


def cmd_createhd(args: list[str]) -> None:
    opts = pairs(args, {"--filename", "--size", "--format", "--variant"})
    require(opts, "--filename", "--size")
    fmt = opts.get("--format", "VDI")
    if fmt not in ("VDI", "VMDK", "VHD") or opts.get("--variant", "Standard") not in ("Standard", "Fixed", "Split2G"):
        raise VBoxError(f"Invalid medium format or variant '{fmt}'")
    path = Path(opts["--filename"])
    if path.exists():
        raise VBoxError(
            f"Could not create the medium storage unit '{path}'. VBox status code: -105 (VERR_ALREADY_EXISTS)",
            "VBOX_E_FILE_ERROR (0x80bb0004)",
        )
    done = subprocess.run(
        ["qemu-img", "create", "-f", fmt.lower().replace("vhd", "vpc"), str(path), opts["--size"] + "M"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise VBoxError(f"Failed to create medium '{path}': {done.stderr.strip()}", "VBOX_E_FILE_ERROR (0x80bb0004)")
    print("0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%")
    print(f"Medium created. UUID: {medium_uuid(str(path))}")


def medium_uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vbox-standin-medium:" + text))


CONTROLLERS = {
    "ide": {"PIIX4", "PIIX3", "ICH6"},
    "sata": {"IntelAhci"},
    "scsi": {"LSILogic", "BusLogic"},
    "pcie": {"NVMe"},
    "floppy": {"I82078"},
    "sas": {"LSILogicSAS"},
}


def cmd_storagectl(args: list[str]) -> None:
    if not args:
        raise syntax("Not enough parameters")
    vm = load_machine(args[0])
    opts = pairs(
        args[1:],
        {"--name", "--add", "--controller", "--portcount", "--sataportcount", "--bootable", "--hostiocache"},
        frozenset({"--remove"}),
    )
    if "--remove" in opts:
        require(opts, "--name")
        if opts["--name"] not in vm["controllers"]:
            raise VBoxError(
                f"Could not find a storage controller named '{opts['--name']}'", "VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)"
            )
        del vm["controllers"][opts["--name"]]
        vm["attachments"] = {k: v for k, v in vm["attachments"].items() if not k.startswith(opts["--name"] + "-")}
        save_machine(vm)
        return
    require(opts, "--name", "--add")
    kind = opts["--add"]
    if kind not in CONTROLLERS or ("--controller" in opts and opts["--controller"] not in CONTROLLERS[kind]):
        raise VBoxError(f"Invalid --add argument '{kind}' / controller '{opts.get('--controller')}'")
    if opts["--name"] in vm["controllers"]:
        raise VBoxError(
            f"Storage controller named '{opts['--name']}' already exists", "VBOX_E_OBJECT_IN_USE (0x80bb000c)"
        )
    vm["controllers"][opts["--name"]] = {
        "type": kind,
        "controller": opts.get("--controller", ""),
        "portcount": opts.get("--portcount", opts.get("--sataportcount", "")),
    }
    save_machine(vm)


def cmd_storageattach(args: list[str]) -> None:
    if not args:
        raise syntax("Not enough parameters")
    vm = load_machine(args[0])
    opts = pairs(args[1:], {"--storagectl", "--port", "--device", "--type", "--medium", "--nonrotational", "--discard"})
    require(opts, "--storagectl", "--port", "--medium")
    if opts["--storagectl"] not in vm["controllers"]:
        raise VBoxError(
            f"Could not find a controller named '{opts['--storagectl']}'", "VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)"
        )
    key = f"{opts['--storagectl']}-{opts['--port']}-{opts.get('--device', '0')}"
    medium = opts["--medium"]
    if medium == "none":
        if key not in vm["attachments"]:
            raise VBoxError(
                f"No storage device attached to device slot {opts.get('--device', '0')} on port "
                f"{opts['--port']} of controller '{opts['--storagectl']}'",
                "VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)",
            )
        del vm["attachments"][key]
    else:
        if opts.get("--type") not in ("hdd", "dvddrive", "fdd"):
            raise syntax(f"Invalid --type argument '{opts.get('--type')}'")
        if medium not in ("emptydrive", "additions") and not Path(medium).exists():
            raise VBoxError(
                f"Could not find file for the medium '{medium}' (VERR_FILE_NOT_FOUND)", "VBOX_E_FILE_ERROR (0x80bb0004)"
            )
        vm["attachments"][key] = {
            "type": opts["--type"],
            "medium": os.path.abspath(medium) if Path(medium).exists() else medium,
        }
    save_machine(vm)

"""The VBoxManage stand-in's appliances: ``export`` (an OVF or OVA, vboxovf.py) and ``import``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import vboxovf
from vboxargs import EXPORT_FLAGS, EXPORT_VALUES, IMPORT_FLAGS, IMPORT_VALUES, pairs
from vboxpower import is_running
from vboxstate import VBoxError, load_machine, machine_dir, new_machine, save_machine, syntax


def cmd_export(args: list[str]) -> None:
    if not args:
        raise syntax("Not enough parameters")
    vm = load_machine(args[0])
    opts = pairs(args[1:], EXPORT_VALUES | {"--output", "-o"}, frozenset(EXPORT_FLAGS))
    output = opts.get("--output") or opts.get("-o")
    if not output:
        raise syntax("Missing --output argument")
    if is_running(vm):
        raise VBoxError("Cannot export a running machine", "VBOX_E_INVALID_VM_STATE (0x80bb0002)")
    print("0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%")
    vboxovf.export(vm, output, manifest="--manifest" in opts)
    print("Successfully exported 1 machine(s).")


def cmd_import(args: list[str]) -> None:
    if not args:
        raise syntax("Not enough parameters")
    opts = pairs(args[1:], IMPORT_VALUES, frozenset(IMPORT_FLAGS))
    ostype, files, mac = vboxovf.read_ovf(args[0])
    name = opts.get("--vmname") or Path(args[0]).stem
    vm = new_machine(name, ostype)
    if mac and ("keepallmacs" in opts.get("--options", "") or "keepnatmacs" in opts.get("--options", "")):
        vm["settings"]["macaddress1"] = mac
    vm["controllers"]["IDE Controller"] = {"type": "ide", "controller": "PIIX4", "portcount": "2"}
    for i, src in enumerate(files):
        dest = machine_dir(name) / f"{name}-disk{i + 1:03d}.vmdk"
        dest.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["qemu-img", "convert", "-O", "vmdk", src, str(dest)], capture_output=True, text=True)
        if done.returncode != 0:
            raise VBoxError(f"Appliance import failed: {done.stderr.strip()}", "VBOX_E_FILE_ERROR (0x80bb0004)")
        vm["attachments"][f"IDE Controller-{i // 2}-{i % 2}"] = {"type": "hdd", "medium": str(dest), "owned": True}
    save_machine(vm)
    print("0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\nSuccessfully imported the appliance.")

"""The VBoxManage stand-in's running machines: ``startvm``, ``controlvm`` (scancodes, poweroff, ACPI
button) and whether a machine runs (in qemu mode: whether its QEMU process does)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import vboxqemu
from vboxstate import VBoxError, load_machine, save_machine, syntax

QEMU_MODE = os.environ.get("VBOX_STANDIN_MODE", "record") == "qemu"


def unlocked(vm: dict[str, Any]) -> None:
    if is_running(vm):
        raise VBoxError(
            f"The machine '{vm['name']}' is already locked for a session (or being unlocked)",
            "VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)",
            context="LockMachine(a->session, LockType_Write)",
        )


def is_running(vm: dict[str, Any]) -> bool:
    if vm["state"] != "running":
        return False
    if QEMU_MODE and not vboxqemu.process_alive(vm):
        vm["state"] = "poweroff"  # the guest powered itself off
        if vm.get("qmp"):
            Path(vm["qmp"]).unlink(missing_ok=True)
        for key in ("pid", "starttime", "qmp"):
            vm.pop(key, None)
        save_machine(vm)
        return False
    return True


def cmd_startvm(args: list[str]) -> None:
    if len(args) != 3 or args[1] != "--type" or args[2] not in ("headless", "gui", "sdl", "separate"):
        raise syntax(f"Invalid parameter '{' '.join(args[1:])}'")
    vm = load_machine(args[0])
    unlocked(vm)
    if QEMU_MODE:
        vboxqemu.start(vm)
    vm["state"] = "running"
    save_machine(vm)
    print(f'Waiting for VM "{vm["name"]}" to power on...\nVM "{vm["name"]}" has been successfully started.')


def cmd_controlvm(args: list[str]) -> None:
    if len(args) < 2:
        raise syntax("Not enough parameters")
    vm = load_machine(args[0])
    if not is_running(vm):
        raise VBoxError(f"Machine '{vm['name']}' is not currently running")
    action, rest = args[1], args[2:]
    if action == "keyboardputscancode":
        if not rest or not all(re.fullmatch(r"[0-9a-fA-F]{2}", c) for c in rest):
            raise VBoxError(f"Error: '{' '.join(rest)}' is not a hex byte!")
        vm.setdefault("scancodes", []).append(rest)
        if QEMU_MODE:
            vboxqemu.put_scancodes(vm, [int(c, 16) for c in rest])
    elif action in ("poweroff", "acpipowerbutton") and not rest:
        if QEMU_MODE and action == "poweroff":
            vboxqemu.stop(vm)
        elif QEMU_MODE:
            vboxqemu.qmp_call(vm, "system_powerdown")
        else:
            vm["state"] = "poweroff"
        if action == "poweroff":
            print("0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%", file=sys.stderr)
    else:
        raise syntax(f"Invalid parameter '{action}'")
    save_machine(vm)

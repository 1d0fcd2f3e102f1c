"""The VBoxManage stand-in's machines: ``--version``, ``list systemproperties``, ``setextradata``,
``createvm``, ``modifyvm`` (with NAT rules), ``showvminfo``, ``snapshot`` and ``unregistervm``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import vboxsnapshot
from vboxargs import MODIFYVM, NIC_TYPES, ON_OFF, pairs, require
from vboxpower import is_running, unlocked
from vboxstate import (
    HOME,
    VBoxError,
    load_global,
    load_machine,
    machine_dir,
    new_machine,
    remove_machine_dir,
    save_global,
    save_machine,
    syntax,
)

VERSION = os.environ.get("VBOX_STANDIN_VERSION", "6.1.16r140961")


def cmd_version(args: list[str]) -> None:
    print(VERSION)


def cmd_list(args: list[str]) -> None:
    if args != ["systemproperties"]:
        raise syntax(f"Invalid parameter '{' '.join(args)}'")
    iso = os.environ.get("VBOX_STANDIN_GA_ISO") or str(HOME / "VBoxGuestAdditions.iso")
    if not os.environ.get("VBOX_STANDIN_GA_ISO") and not Path(iso).exists():
        Path(iso).write_bytes(b"stand-in guest additions\n")
    print(
        f"API version:                     6_1\nMinimum guest RAM size:          4 Megabytes\n"
        f"Default machine folder:          {HOME / 'VirtualBox VMs'}\n"
        f"Default Guest Additions ISO:     {iso}"
    )


def cmd_setextradata(args: list[str]) -> None:
    if len(args) not in (2, 3):
        raise syntax("Incorrect number of parameters")
    target, key, value = args[0], args[1], (args[2] if len(args) == 3 else None)
    data = load_global() if target == "global" else load_machine(target)
    if value is None:
        data["extradata"].pop(key, None)
    else:
        data["extradata"][key] = value
    save_global(data) if target == "global" else save_machine(data)


def cmd_createvm(args: list[str]) -> None:
    opts = pairs(args, {"--name", "--ostype"}, frozenset({"--register"}))
    require(opts, "--name", "--register")
    vm = new_machine(opts["--name"], opts.get("--ostype", "Other"))
    save_machine(vm)
    print(
        f"Virtual machine '{vm['name']}' is created and registered.\nUUID: {vm['uuid']}\n"
        f"Settings file: '{machine_dir(vm['name']) / (vm['name'] + '.vbox')}'"
    )


def cmd_modifyvm(args: list[str]) -> None:
    if not args:
        raise syntax("Not enough parameters")
    vm = load_machine(args[0])
    unlocked(vm)
    rest = args[1:]
    i = 0
    while i < len(rest):
        opt = rest[i]
        if opt == "--natpf1":
            i += natpf(vm, rest[i + 1 : i + 3])
            continue
        if opt not in MODIFYVM or i + 1 >= len(rest):
            raise syntax(f"Invalid parameter '{opt}'")
        value = rest[i + 1]
        if opt == "--nictype1" and value not in NIC_TYPES:
            raise VBoxError(f"Invalid NIC type '{value}' specified for NIC 1")
        if opt in ("--usb", "--vrde", "--audioin", "--audioout") and value not in ON_OFF:
            raise syntax(f"Invalid {opt} argument '{value}'")
        vm["settings"][opt[2:]] = value
        i += 2
    save_machine(vm)


def natpf(vm: dict[str, Any], args: list[str]) -> int:
    rules = vm["natpf"].setdefault("1", {})
    if args[:1] == ["delete"] and len(args) == 2:
        if args[1] not in rules:
            raise VBoxError("Code NS_ERROR_INVALID_ARG (0x80070057) - Invalid argument value")
        del rules[args[1]]
        return 3
    if not args or len(args[0].split(",")) != 6:
        raise syntax("Invalid NAT rule")
    name = args[0].split(",")[0]
    if name in rules:
        raise VBoxError("A NAT rule of this name already exists", "NS_ERROR_INVALID_ARG (0x80070057)")
    rules[name] = args[0]
    return 2


def cmd_showvminfo(args: list[str]) -> None:
    if len(args) != 2 or args[1] != "--machinereadable":
        raise syntax(f"Invalid parameter '{' '.join(args[1:])}'")
    vm = load_machine(args[0])
    state = "running" if is_running(vm) else "poweroff"
    s = vm["settings"]
    lines = [
        f'name="{vm["name"]}"',
        f'ostype="{vm["ostype"]}"',
        f'UUID="{vm["uuid"]}"',
        f'CfgFile="{machine_dir(vm["name"]) / (vm["name"] + ".vbox")}"',
        f"memory={s['memory']}",
        f"cpus={s['cpus']}",
        f'VMState="{state}"',
        'VMStateChangeTime="2020-12-01T00:00:00.000000000"',
    ]
    for i, (name, ctl) in enumerate(vm["controllers"].items()):
        lines += [f'storagecontrollername{i}="{name}"', f'storagecontrollertype{i}="{ctl["type"]}"']
    for key, att in sorted(vm["attachments"].items()):
        lines.append(f'"{key}"="{att["medium"]}"')
    lines += [
        f'nic1="{s.get("nic1", "nat")}"',
        f'nictype1="{s.get("nictype1", "82540EM")}"',
        f'macaddress1="{s["macaddress1"]}"',
    ]
    for i, rule in enumerate(vm["natpf"].get("1", {}).values()):
        lines.append(f'Forwarding({i})="{rule}"')
    print("\n".join(lines))


def cmd_snapshot(args: list[str]) -> None:
    if len(args) < 2:
        raise syntax("Not enough parameters")
    vm = load_machine(args[0])
    vboxsnapshot.command(vm, args[1:], is_running(vm))


def cmd_unregistervm(args: list[str]) -> None:
    if len(args) not in (1, 2) or args[1:] not in ([], ["--delete"]):
        raise syntax(f"Invalid parameter '{' '.join(args[1:])}'")
    vm = load_machine(args[0])
    if is_running(vm):
        raise VBoxError(
            f"Cannot unregister the machine '{vm['name']}' while it is locked",
            "VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)",
            context="Unregister(CleanupMode_DetachAllReturnHardDisksOnly)",
        )
    if "--delete" in args:
        for att in vm["attachments"].values():
            if att["type"] == "hdd":  # VirtualBox deletes attached hard disks, never DVD or floppy images
                Path(att["medium"]).unlink(missing_ok=True)
    remove_machine_dir(vm["name"])

"""The stand-in's "qemu" mode: a registered machine runs as a qemu-system-x86_64 (TCG) process.

Mapping (a stand-in's choice, not VirtualBox's hardware): disks and DVDs on the IDE controller
become QEMU IDE drives at the same port/device; disks on SATA/SCSI/PCIe controllers become virtio
disks (the test guest has no AHCI, LSI or NVMe driver); NIC 1 is a virtio-net device with the
machine's MAC and user networking, where each NAT rule ``name,tcp,HOSTIP,HOSTPORT,,GUESTPORT``
becomes a ``hostfwd``; ``keyboardputscancode`` goes through QMP ``input-send-event``. QEMU runs
in its own process group (like a VirtualBox VM, it outlives the VBoxManage call that started it)
and is stopped by ``controlvm poweroff`` (QMP ``quit``, then SIGKILL) or when the guest powers off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from vboxstate import VBoxError, machine_dir

QEMU = os.environ.get("VBOX_STANDIN_QEMU", "qemu-system-x86_64")


def process_alive(vm: dict[str, Any]) -> bool:
    """The machine's QEMU process still runs (not gone, not a zombie, not a reused pid)."""
    pid, started = vm.get("pid"), vm.get("starttime")
    if not pid:
        return False
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X") and fields[19] == started


def _starttime(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]


def _drive_args(vm: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, att in sorted(vm["attachments"].items()):
        ctl_name, port, device = key.rsplit("-", 2)
        medium = att["medium"]
        if medium in ("none", "emptydrive", "") or att["type"] == "fdd":
            continue
        ctl = vm["controllers"][ctl_name]["type"]
        media = "cdrom" if att["type"] == "dvddrive" else "disk"
        fmt = "vdi" if medium.endswith(".vdi") else ("vmdk" if medium.endswith(".vmdk") else "raw")
        if ctl == "ide":
            index = int(port) * 2 + int(device)
            args += ["-drive", f"file={medium},if=ide,index={index},media={media},format={fmt}"]
        elif media == "disk":
            args += ["-drive", f"file={medium},if=virtio,format={fmt}"]
        else:
            args += ["-drive", f"file={medium},if=ide,index=3,media=cdrom,format=raw"]
    return args


def _net_args(vm: dict[str, Any]) -> list[str]:
    forwards = ""
    for rule in vm["natpf"].get("1", {}).values():
        _name, proto, host_ip, host_port, _guest_ip, guest_port = rule.split(",")
        forwards += f",hostfwd={proto}:{host_ip or '127.0.0.1'}:{host_port}-:{guest_port}"
    mac = vm["settings"]["macaddress1"]
    mac = ":".join(mac[i : i + 2] for i in range(0, 12, 2)).lower()
    return ["-netdev", f"user,id=nic1{forwards}", "-device", f"virtio-net-pci,netdev=nic1,mac={mac}"]


def make_qemu_argv(vm: dict[str, Any], qmp: Path) -> list[str]:
    s = vm["settings"]
    order = "".join({"disk": "c", "dvd": "d", "net": "n"}.get(s.get(f"boot{i}", "none"), "") for i in range(1, 5))
    serial = os.environ.get("VBOX_STANDIN_SERIAL", "null")
    return [
        QEMU, "-name", f"vbox-standin:{vm['name']}", "-machine", "pc,accel=tcg", "-m", s["memory"],
        "-smp", s["cpus"], "-display", "none", "-qmp", f"unix:{qmp},server,nowait", "-serial", serial,
        "-boot", f"order={order or 'cd'}", *_drive_args(vm), *_net_args(vm),
    ]  # fmt: skip


def start(vm: dict[str, Any]) -> None:
    """Start QEMU for ``vm``; record pid, start time and QMP socket in ``vm``."""
    run_dir = machine_dir(vm["name"]) / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    # a short path: a Unix socket's must stay under 108 bytes
    key = hashlib.sha1(str(run_dir).encode()).hexdigest()[:16]
    qmp = Path(tempfile.gettempdir()) / f"vbox-standin-{key}.qmp"
    qmp.unlink(missing_ok=True)
    argv = make_qemu_argv(vm, qmp)
    with open(run_dir / "qemu.log", "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, process_group=0)
    deadline = time.monotonic() + 30
    while not qmp.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            tail = (run_dir / "qemu.log").read_text(errors="replace")[-1500:]
            raise VBoxError(f"The virtual machine '{vm['name']}' has terminated unexpectedly during startup: {tail}",
                            "NS_ERROR_FAILURE (0x80004005)")  # fmt: skip
        time.sleep(0.05)
    vm.update(pid=proc.pid, starttime=_starttime(proc.pid), qmp=str(qmp), state="running")
    # Popen's object is dropped without wait(): the process outlives us, re-parented like a VM process.
    proc.returncode = 0


def qmp_call(vm: dict[str, Any], command: str, arguments: dict[str, Any] | None = None) -> Any:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(30)
        sock.connect(vm["qmp"])
        stream = sock.makefile("rwb")
        stream.readline()  # greeting
        for message in ({"execute": "qmp_capabilities"}, {"execute": command, "arguments": arguments or {}}):
            stream.write(json.dumps(message).encode() + b"\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline() or b"{}")
                if "event" not in reply:
                    break
            if "error" in reply:
                raise VBoxError(f"QMP {command}: {reply['error'].get('desc')}", "NS_ERROR_FAILURE (0x80004005)")
        return reply.get("return")


def scancode_events(codes: list[int]) -> list[dict[str, Any]]:
    """XT set-1 scancodes (``e0`` prefixes, break = make | 0x80) as QMP key events (qnum numbering)."""
    events: list[dict[str, Any]] = []
    extended = False
    for code in codes:
        if code == 0xE0:
            extended = True
            continue
        number = (code & 0x7F) | (0x80 if extended else 0)
        events.append({"type": "key", "data": {"down": code < 0x80, "key": {"type": "number", "data": number}}})
        extended = False
    return events


# QEMU's PS/2 keyboard queue holds 16 codes and drops the rest; a TCG guest starved of CPU (a busy
# host) may not drain it between two events. Pacing each event keeps a typed "/" from vanishing.
KEY_DELAY = float(os.environ.get("VBOX_STANDIN_KEY_DELAY", "0.025"))


def put_scancodes(vm: dict[str, Any], codes: list[int]) -> None:
    for event in scancode_events(codes):
        qmp_call(vm, "input-send-event", {"events": [event]})
        time.sleep(KEY_DELAY)


def stop(vm: dict[str, Any], timeout: float = 15.0) -> None:
    """Power the machine off: QMP ``quit``, then SIGKILL; return once the process is gone."""
    if process_alive(vm):
        with contextlib.suppress(OSError, VBoxError, ValueError):
            qmp_call(vm, "quit")
        deadline = time.monotonic() + timeout
        while process_alive(vm) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_alive(vm):
            os.killpg(vm["pid"], signal.SIGKILL)
            while process_alive(vm):
                time.sleep(0.05)
    if vm.get("qmp"):
        Path(vm["qmp"]).unlink(missing_ok=True)
    for key in ("pid", "starttime", "qmp"):
        vm.pop(key, None)
    vm["state"] = "poweroff"

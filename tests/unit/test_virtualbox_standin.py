"""The VBoxManage stand-in's qemu mapping, without running QEMU: the QEMU command line it builds
for a registered machine, and scancodes turned into QMP key events."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

STANDIN_DIR = Path(__file__).resolve().parents[1] / "standins" / "virtualbox"


@pytest.fixture
def vboxqemu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("VBOX_STANDIN_HOME", str(tmp_path))
    monkeypatch.syspath_prepend(str(STANDIN_DIR))
    for name in ("vboxstate", "vboxqemu"):
        sys.modules.pop(name, None)
    return importlib.import_module("vboxqemu")


def machine() -> dict[str, Any]:
    return {
        "name": "vm1",
        "settings": {
            "cpus": "2",
            "memory": "512",
            "boot1": "disk",
            "boot2": "dvd",
            "boot3": "none",
            "boot4": "none",
            "macaddress1": "0800271A2B3C",
        },
        "controllers": {"IDE Controller": {"type": "ide"}, "SATA Controller": {"type": "sata"}},
        "attachments": {
            "IDE Controller-0-0": {"type": "hdd", "medium": "/o/vm1.vdi"},
            "IDE Controller-0-1": {"type": "dvddrive", "medium": "/isos/boot.iso"},
            "SATA Controller-1-0": {"type": "hdd", "medium": "/o/extra.vmdk"},
        },
        "natpf": {"1": {"packercomm": "packercomm,tcp,127.0.0.1,2345,,22"}},
    }


def test_stand_in_qemu_argv_maps_the_machine(vboxqemu: ModuleType, tmp_path: Path) -> None:
    argv = vboxqemu.make_qemu_argv(machine(), tmp_path / "q.sock")
    joined = " ".join(argv)
    assert "-boot order=cd" in joined
    assert "-m 512 -smp 2" in joined
    assert "-drive file=/o/vm1.vdi,if=ide,index=0,media=disk,format=vdi" in joined
    assert "-drive file=/isos/boot.iso,if=ide,index=1,media=cdrom,format=raw" in joined
    assert "-drive file=/o/extra.vmdk,if=virtio,format=vmdk" in joined
    assert "user,id=nic1,hostfwd=tcp:127.0.0.1:2345-:22" in joined
    assert "virtio-net-pci,netdev=nic1,mac=08:00:27:1a:2b:3c" in joined
    assert f"unix:{tmp_path / 'q.sock'},server,nowait" in joined


def test_stand_in_scancodes_become_qnum_key_events(vboxqemu: ModuleType) -> None:
    events = vboxqemu.scancode_events([0x2A, 0x1E, 0x9E, 0xAA, 0xE0, 0x48, 0xE0, 0xC8])
    assert [(e["data"]["key"]["data"], e["data"]["down"]) for e in events] == [
        (0x2A, True), (0x1E, True), (0x1E, False), (0x2A, False), (0xC8, True), (0xC8, False),
    ]  # fmt: skip
    assert all(e["type"] == "key" and e["data"]["key"]["type"] == "number" for e in events)


def test_stand_in_dead_or_reused_pid_is_not_running(vboxqemu: ModuleType) -> None:
    assert not vboxqemu.process_alive({})
    assert not vboxqemu.process_alive({"pid": 2**22 + 7, "starttime": "1"})
    own = Path("/proc/self/stat").read_text().rpartition(")")[2].split()[19]
    assert not vboxqemu.process_alive({"pid": os.getpid(), "starttime": str(int(own) + 1)})

"""The VMware stand-in ``vmrun`` (tests/standins/vmware) in record mode: it records every call,
accepts only what Packer 1.6.6 emits and answers like vmrun. No VM, no namespace needed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

VMRUN = Path(__file__).resolve().parents[1] / "standins" / "vmware" / "vmrun"
VMPLAYER = VMRUN.with_name("vmplayer")


def vmrun(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VMWARE_STANDIN_LOG": str(tmp_path / "log.jsonl"),
           "VMWARE_STANDIN_STATE": str(tmp_path / "state"), "VMWARE_STANDIN_MODE": "record"}  # fmt: skip
    return subprocess.run([str(VMRUN), *args], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60)


def test_standin_vmrun_start_list_stop_and_records(tmp_path: Path) -> None:
    (tmp_path / "disk.vmdk").write_bytes(b"")
    vmx = tmp_path / "vm.vmx"
    vmx.write_text('ethernet0.present = "TRUE"\nscsi0:0.fileName = "disk.vmdk"\n')
    assert vmrun(tmp_path, "-T", "player", "start", "vm.vmx", "nogui").returncode == 0
    assert "ethernet0.generatedAddress" in vmx.read_text()
    assert (tmp_path / "state" / "start-vm.vmx").read_text().startswith("ethernet0.present")
    assert vmrun(tmp_path, "-T", "player", "list").stdout == f"Total running VMs: 1\n{vmx}\n"
    assert vmrun(tmp_path, "-T", "player", "start", "vm.vmx", "nogui").returncode == 255  # already running
    assert vmrun(tmp_path, "-T", "player", "stop", "vm.vmx", "hard").returncode == 0
    assert vmrun(tmp_path, "-T", "player", "list").stdout == "Total running VMs: 0\n"
    stopped = vmrun(tmp_path, "-T", "player", "stop", "vm.vmx", "hard")
    assert stopped.returncode == 255 and stopped.stderr.startswith("Error: ")
    calls = [json.loads(line)["argv"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [c[2] for c in calls] == ["start", "list", "start", "stop", "list", "stop"]


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("-T", "fusion", "list"),
        ("-T", "player", "getGuestIPAddress", "vm.vmx"),
        ("-T", "player", "start", "vm.vmx"),
        ("-T", "player", "stop", "vm.vmx", "nicely"),
        ("-T", "ws", "list", "extra"),
    ],
)
def test_standin_vmrun_refuses_what_packer_never_emits(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = vmrun(tmp_path, *args)
    assert result.returncode == 255 and result.stderr.startswith("Error: ")


def test_standin_vmrun_refuses_a_vmx_whose_disk_is_missing(tmp_path: Path) -> None:
    (tmp_path / "vm.vmx").write_text('scsi0:0.fileName = "disk.vmdk"\n')
    result = vmrun(tmp_path, "-T", "player", "start", "vm.vmx", "nogui")
    assert result.returncode == 255 and "disk.vmdk" in result.stderr
    assert vmrun(tmp_path, "-T", "player", "start", "nope.vmx", "nogui").returncode == 255


def test_standin_vmplayer_is_never_run(tmp_path: Path) -> None:
    assert subprocess.run([str(VMPLAYER)], capture_output=True).returncode == 1


OVFTOOL = VMRUN.with_name("ovftool")


def ovftool(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VMWARE_STANDIN_LOG": str(tmp_path / "vmrun.jsonl")}
    return subprocess.run([str(OVFTOOL), *args], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("vm.vmx",),
        ("--compres=9", "vm.vmx", "vm.ovf"),
        ("--compress=10", "vm.vmx", "vm.ovf"),
        ("--overwrite=yes", "vm.vmx", "vm.ovf"),
        ("vm.vmx", "vm.zip"),
        ("vm.vmx", "vi://root@esx/vm"),
        ("missing.vmx", "vm.ovf"),
    ],
)
def test_standin_ovftool_refuses_what_packer_never_emits(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "vm.vmx").write_text('memsize = "256"\n')
    result = ovftool(tmp_path, *args)
    assert result.returncode == 1 and result.stdout.startswith("Error: "), result
    assert json.loads((tmp_path / "ovftool.jsonl").read_text())["argv"] == list(args)


def test_standin_ovftool_writes_an_ova_with_a_stream_optimized_disk(tmp_path: Path) -> None:
    import shutil
    import tarfile

    from tests.conftest import require_tool

    require_tool(shutil.which("qemu-img") is not None, "needs qemu-img (apt-get install qemu-utils)")
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(tmp_path / "d.vmdk"), "16M"], check=True)
    vmx = 'scsi0:0.present = "TRUE"\nscsi0:0.fileName = "d.vmdk"\nethernet0.present = "TRUE"\n'
    (tmp_path / "vm.vmx").write_text(vmx)
    assert ovftool(tmp_path, "--shaAlgorithm=SHA512", "vm.vmx", "vm.ova").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.vmdk", "ovftool.jsonl", "vm.ova", "vm.vmx"]
    with tarfile.open(tmp_path / "vm.ova") as tar:
        assert tar.getnames() == ["vm.ovf", "vm.mf", "vm-disk1.vmdk"]
        manifest = tar.extractfile("vm.mf").read().decode()  # type: ignore[union-attr]
        ovf = tar.extractfile("vm.ovf").read().decode()  # type: ignore[union-attr]
    assert manifest.startswith("SHA512(vm.ovf)= ") and 'ovf:capacity="16777216"' in ovf
    again = ovftool(tmp_path, "vm.vmx", "vm.ova")
    assert again.returncode == 1 and "already exists" in again.stdout


def load_recorder() -> Any:
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("vnc_recorder", str(VMRUN.with_name("vnc-recorder")))
    spec = importlib.util.spec_from_loader("vnc_recorder", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize("version, security", [(b"RFB 003.008\n", b"\x02"), (b"RFB 003.003\n", b"")])
def test_standin_vnc_recorder_finds_key_events_in_a_client_stream(version: bytes, security: bytes) -> None:
    import struct

    parser = load_recorder().ClientParser()
    stream = version + security + b"\x11" * 16 + b"\x01"  # version, VNC auth, response, ClientInit(shared)
    stream += struct.pack(">BxHi", 2, 1, 0)  # SetEncodings [raw]
    stream += struct.pack(">BBHHHH", 3, 0, 0, 0, 640, 480)  # FramebufferUpdateRequest
    stream += struct.pack(">BBxxI", 4, 1, 0xFF1B) + struct.pack(">BBxxI", 4, 0, 0xFF1B)
    stream += struct.pack(">BxxxI", 6, 3) + b"abc"  # ClientCutText
    stream += struct.pack(">BBHH", 5, 0, 1, 1) + struct.pack(">BBxxI", 4, 1, ord("a"))
    events = [e for i in range(0, len(stream), 7) for e in parser.feed(stream[i : i + 7])]  # split anywhere
    assert events == [(1, 0xFF1B), (0, 0xFF1B), (1, ord("a"))]

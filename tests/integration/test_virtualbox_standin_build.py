"""virtualbox-iso end to end against the VBoxManage STAND-IN (tests/standins/virtualbox; VirtualBox
itself cannot run here): the stand-in runs the VM under QEMU (TCG), so the test guest really
installs from its ISO (boot command typed as scancodes over QMP, kickstart over HTTP), is
provisioned over SSH, shuts down and is exported as OVF + VMDK, then boxed for Vagrant.

Packer 1.6.6 builds the same template with the same stand-in: the normalised VBoxManage call
sequences must be equal (VM name and ports normalised, polls collapsed, the scancode stream equal),
both boxes must hold the same files and metadata, and both disks the provisioner's mark. Also:
a failing VBoxManage call and Ctrl-C leave no VM, no qemu, no output directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool, run_cli
from tests.packer_oracle import run_packer
from tests.vbox_standin import (
    ISO,
    ROOT,
    STANDIN,
    calls,
    free_port,
    interrupt_build,
    kill_leftovers,
    normalise,
    port_is_free,
    qemu_pids,
    registered,
    standin_env,
)  # fmt: skip

pytestmark = pytest.mark.integration
HTTP_DIR = ROOT / "tests" / "guest" / "http"
MARK = "provisioned-by-virtualbox-iso-standin"


def make_template(http_port: int, **overrides: Any) -> dict[str, Any]:
    builder: dict[str, Any] = {
        "type": "virtualbox-iso", "guest_os_type": "RedHat_64", "headless": True, "disk_size": 512, "memory": 512,
        "iso_url": str(ISO), "iso_checksum": f"file:{ISO}.sha256", "http_directory": str(HTTP_DIR),
        "http_bind_address": "127.0.0.1", "http_port_min": http_port, "http_port_max": http_port, "boot_wait": "3s",
        "boot_command": ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
        "ssh_username": "root", "ssh_password": "packer", "ssh_timeout": "10m",
        "shutdown_command": "shutdown -h now",
    }  # fmt: skip
    builder.update(overrides)
    return {
        "builders": [builder],
        "provisioners": [{"type": "shell", "inline": [f"echo {MARK} > /root/mark && sync"]}],
        "post-processors": [{"type": "vagrant", "output": "box-{{.Provider}}.box"}],
    }


def box_contents(box: Path) -> dict[str, bytes]:
    """Member base name -> bytes. (Go's tar writer puts access/change times where Python's tarfile
    reads a ustar name prefix, so Packer's names come back as ``<digits>/name``.)"""
    with tarfile.open(box) as tar:
        return {
            m.name.rsplit("/", 1)[-1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def disk_holds_mark(vmdk: Path, tmp: Path, mark: bytes = MARK.encode()) -> bool:
    raw = tmp / (vmdk.name + ".raw")
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(vmdk), str(raw)], check=True, timeout=300)
    try:
        with open(raw, "rb") as f:
            while chunk := f.read(1 << 24):
                if mark in chunk:
                    return True
        return False
    finally:
        raw.unlink()


def build(work: Path, tool: str, http_port: int) -> subprocess.CompletedProcess[str]:
    work.mkdir(parents=True, exist_ok=True)
    (work / "template.json").write_text(json.dumps(make_template(http_port)))
    env = standin_env(work, mode="qemu")
    if tool == "packer":
        return run_packer("build", "template.json", cwd=work, env=env, timeout=1500)
    return run_cli("build", "template.json", cwd=work, env=env, timeout=1500)


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    require_tool(shutil.which("packer") is not None, "needs Packer 1.6.6 as the oracle")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    base = tmp_path_factory.mktemp("vbox-side-by-side")
    port = free_port()
    works = {"imagesmith": base / "imagesmith", "packer": base / "packer"}
    for tool, work in works.items():
        try:
            done = build(work, tool, port)
            assert done.returncode == 0, f"{tool} build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            assert qemu_pids(work) == [], f"{tool}: qemu left running"
        finally:
            kill_leftovers(work)
    return works


def test_stand_in_build_call_sequence_equals_packers(side_by_side: dict[str, Path]) -> None:
    ours = normalise(side_by_side["imagesmith"], rename_vm=True)
    theirs = normalise(side_by_side["packer"], rename_vm=True)
    assert ours == theirs
    assert any("keyboardputscancode 01 81" in line for line in ours)
    assert any("--natpf1 packercomm,tcp,127.0.0.1,PORT,,22" in line for line in ours)


def test_stand_in_build_boxes_equal_packers_and_hold_the_mark(side_by_side: dict[str, Path], tmp_path: Path) -> None:
    ours = box_contents(side_by_side["imagesmith"] / "box-virtualbox.box")
    theirs = box_contents(side_by_side["packer"] / "box-virtualbox.box")
    rename = re.compile(rb"packer-virtualbox-iso-\d+")
    assert sorted(rename.sub(b"VM", n.encode()) for n in ours) == sorted(rename.sub(b"VM", n.encode()) for n in theirs)
    assert ours["metadata.json"] == theirs["metadata.json"] == b'{"provider":"virtualbox"}\n'
    for contents in (ours, theirs):  # base_mac is adapter 0's MAC in the box's own OVF
        mac = re.search(rb'<Adapter slot="0"[^>]*MACAddress="(\w+)"', contents["box.ovf"])
        assert mac is not None and f'config.vm.base_mac = "{mac.group(1).decode()}"'.encode() in contents["Vagrantfile"]
    mac_free = re.compile(rb'base_mac = "\w+"')
    assert mac_free.sub(b"MAC", ours["Vagrantfile"]) == mac_free.sub(b"MAC", theirs["Vagrantfile"])
    for tool, contents in (("imagesmith", ours), ("packer", theirs)):
        vmdk = next(n for n in contents if n.endswith(".vmdk"))
        path = tmp_path / f"{tool}-{vmdk}"
        path.write_bytes(contents[vmdk])
        assert disk_holds_mark(path, tmp_path), f"{tool}'s disk lacks the provisioner's mark"


def test_stand_in_build_box_imports_into_the_stand_in(side_by_side: dict[str, Path], tmp_path: Path) -> None:
    with tarfile.open(side_by_side["imagesmith"] / "box-virtualbox.box") as tar:
        tar.extractall(tmp_path / "box", filter="data")
    env = {**os.environ, **standin_env(tmp_path)}
    standin = STANDIN
    done = subprocess.run([standin, "import", str(tmp_path / "box" / "box.ovf"), "--vsys", "0", "--vmname", "imported"],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = subprocess.run([standin, "showvminfo", "imported", "--machinereadable"], capture_output=True, text=True,
                          env=env, timeout=60).stdout  # fmt: skip
    assert re.search(r'"IDE Controller-0-0"=".*imported-disk001\.vmdk"', info)
    subprocess.run([standin, "unregistervm", "imported", "--delete"], check=True, env=env, timeout=60)


def test_stand_in_build_left_nothing_registered(side_by_side: dict[str, Path]) -> None:
    outputs = {}
    for tool, work in side_by_side.items():
        assert registered(work) == [], tool
        out = work / "output-virtualbox-iso"
        outputs[tool] = sorted(p.suffix for p in out.iterdir()) if out.exists() else None
    assert outputs["imagesmith"] == outputs["packer"]


def test_stand_in_failing_call_shows_command_and_cleans_up(tmp_path: Path) -> None:
    """A VBoxManage failure (injected into storagectl) names the command and its stderr; the VM is
    unregistered and deleted and no output directory is left (record mode: no VM runs)."""
    (tmp_path / "template.json").write_text(json.dumps(make_template(free_port())))
    env = standin_env(tmp_path, VBOX_STANDIN_FAIL="storagectl")
    done = run_cli("build", "template.json", cwd=tmp_path, env=env, timeout=600)
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "storagectl packer-virtualbox-iso-" in out and "--add ide" in out
    assert "injected failure of 'storagectl'" in out
    assert "Traceback" not in out
    assert registered(tmp_path) == []
    assert not (tmp_path / "output-virtualbox-iso").exists()
    assert calls(tmp_path)[-1][:1] == ["unregistervm"]


@pytest.mark.parametrize("phase", ["Typing the boot command", "Waiting for SSH to become available"])
def test_stand_in_ctrl_c_leaves_nothing(tmp_path: Path, phase: str, need_qemu: None) -> None:
    """Ctrl-C while typing or while waiting for SSH (the VM runs under QEMU): the VM is powered off,
    unregistered and deleted, its QEMU is gone, the forwarded and VRDP ports are free, and no
    output directory is left."""
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO}")
    (tmp_path / "template.json").write_text(json.dumps(make_template(free_port(), boot_wait="1s")))
    running: list[int] = []

    def look() -> None:
        time.sleep(1.0)
        running.extend(qemu_pids(tmp_path))

    try:
        code, out, sent = interrupt_build(tmp_path, standin_env(tmp_path, mode="qemu"), lambda out: phase in out, look)
        leftovers = qemu_pids(tmp_path)
    finally:
        kill_leftovers(tmp_path)
    assert sent and running, f"the VM was not running when Ctrl-C came:\n{out}"
    assert code != 0, out
    assert "Deregistering and deleting VM" in out, out
    assert leftovers == [], out
    assert registered(tmp_path) == [], out
    assert not (tmp_path / "output-virtualbox-iso").exists(), out
    ports = [re.search(pattern, out) for pattern in (r"\(host port (\d+)\)", r"rdp://127\.0\.0\.1:(\d+)")]
    assert all(m is not None and port_is_free(int(m.group(1))) for m in ports), out
    assert "Traceback" not in out

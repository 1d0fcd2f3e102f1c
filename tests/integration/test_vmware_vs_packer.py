"""vmware-iso against the VMware stand-in, side by side with Packer 1.6.6 (differential).

The same template (several vmware-iso builders, each a different .vmx) is built by Packer 1.6.6
and by imagesmith, each in its own private namespace with the stand-in ``vmrun``/``vmplayer``
(record mode: ``vmrun start`` snapshots the ``.vmx``, nothing boots; ``communicator: none``).
One builder is vmware-vmx, cloning a small source VM (Packer picks its Player 6 driver, which
clones through ``vmrun -T ws clone``). Compared line by line: the ``.vmx`` each wrote before
power-on (VNC port and password and the stand-in's MAC normalised), the finished ``.vmx`` in the
output directory, the files left there, and the vmrun call sequences. Stand-in only: no VMware product is involved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.vmware_support import (
    TEST_ISO,
    imagesmith_build,
    packer_build,
    require_vmware_standin,
    start_snapshots,
    vmrun_calls,
)

pytestmark = [pytest.mark.integration, pytest.mark.compat, pytest.mark.slow]

COMMON: dict[str, Any] = {"communicator": "none", "headless": True, "boot_wait": "0s"}
ISO: dict[str, Any] = {"type": "vmware-iso", "iso_url": str(TEST_ISO), "iso_checksum": "none", "disk_size": 64}
#: the source VM the vmware-vmx case clones (made by the fixture, with its disk)
SOURCE_VMX = """.encoding = "UTF-8"
displayName = "source"
memsize = "256"
guestOS = "other"
scsi0.present = "TRUE"
scsi0.virtualDev = "lsilogic"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "source-disk.vmdk"
ide1:0.present = "TRUE"
ide1:0.deviceType = "cdrom-raw"
ide1:0.fileName = "auto detect"
ethernet0.present = "TRUE"
ethernet0.connectionType = "nat"
ethernet0.virtualDev = "e1000"
ethernet0.generatedAddress = "00:0c:29:01:02:03"
"""

CASES: dict[str, dict[str, Any]] = {
    "defaults": {"disable_vnc": True},
    "hardware": {
        "disable_vnc": True,
        "disk_adapter_type": "pvscsi",
        "network_adapter_type": "VMXNET3",
        "cpus": 2,
        "cores": 2,
        "memory": 768,
        "sound": True,
        "usb": True,
        "serial": "FILE:/tmp/serial.log",
        "parallel": "AUTO:BI",
        "vmx_data": {"Foo.Bar": "baz", "memsize": "1024", "scsi0:0.virtualSSD": "1"},
        "vmx_data_post": {"post.Key": "after"},
    },
    "buses": {
        "disable_vnc": True,
        "disk_adapter_type": "sata",
        "cdrom_adapter_type": "ide",
        "network": "HostOnly",
        "network_name": "lan",
        "vmx_remove_ethernet_interfaces": True,
        "display_name": "Shown Name",
        "disk_additional_size": [8, 9],
        "vmdk_name": "main",
        "version": "14",
        "guest_os_type": "otherlinux-64",
        "skip_compaction": True,
    },
    "ide-pipe": {
        "disable_vnc": True,
        "disk_adapter_type": "ide",
        "serial": "PIPE:/tmp/p,server,app,true",
        "parallel": "DEVICE:/dev/lp0,uni",
        "network": "vmnet8",
        "vm_name": "named",
    },
    "nvme-scsi-cd": {
        "disable_vnc": True,
        "disk_adapter_type": "nvme",
        "cdrom_adapter_type": "scsi",
        "serial": "AUTO:true",
        "usb": True,
    },
    "vnc": {"vnc_port_min": 5990, "vnc_port_max": 5999},
    "media": {
        "disable_vnc": True,
        "disk_adapter_type": "sata",
        "floppy_files": ["media/ks.cfg", "media/flat", "media/glob-*.txt"],
        "floppy_dirs": ["media/tree"],
        "floppy_label": "KSDISK",
        "cd_files": ["media/ks.cfg", "media/tree"],
        "cd_label": "cidata",
    },
    "clone-media": {
        "type": "vmware-vmx",
        "source_path": "source/source.vmx",
        "disable_vnc": True,
        "floppy_files": ["media/ks.cfg"],
        "cd_files": ["media/glob-*.txt"],
    },
    "clone": {
        "type": "vmware-vmx",
        "source_path": "source/source.vmx",
        "disable_vnc": True,
        "display_name": "cloned",
        "vmx_data": {"memsize": "384", "Custom.Key": "x"},
        "vmx_data_post": {"post.Key": "y"},
        "vmx_remove_ethernet_interfaces": True,
    },
}
CASE_NAMES = sorted(CASES)


def template() -> str:
    builders = [
        {**COMMON, **({} if extra.get("type") == "vmware-vmx" else ISO), "name": name,
         "output_directory": f"out-{name}", **extra}
        for name, extra in CASES.items()
    ]  # fmt: skip
    return json.dumps({"builders": builders}, indent=1)


def vmx_name(case: str) -> str:
    return f"{CASES[case].get('vm_name', f'packer-{case}')}.vmx"


def vmx_file(out: Path, case: str) -> Path:
    """The case's ``.vmx`` (vmware-vmx's default name ends in the run's start time)."""
    if CASES[case].get("type") == "vmware-vmx":
        return next(p for p in out.iterdir() if re.fullmatch(rf"packer-{case}-\d+\.vmx", p.name))
    return out / vmx_name(case)


def without_time(argv: list[str]) -> list[str]:
    return [re.sub(r"-\d{9,}\.vmx$", "-<time>.vmx", a) for a in argv]


#: the files the media cases put on their floppy and CD
MEDIA = {
    "ks.cfg": "text\n",
    "flat/one.txt": "1\n",
    "flat/deeper/two.txt": "2\n",
    "glob-a.txt": "a\n",
    "glob-b.txt": "b\n",
    "tree/top.txt": "top\n",
    "tree/sub/leaf.txt": "leaf\n",
}


def normalise(text: str) -> list[str]:
    text = re.sub(r'(\.filename = )"/[^"]*"', r'\1"<temporary media>"', text, flags=re.I)
    text = re.sub(r"(packer-[\w-]+)-\d{9,}", r"\1-<time>", text)
    text = re.sub(r'(ethernet0\.generatedAddress = )"[0-9a-f:]+"', r'\1"<mac>"', text, flags=re.I)
    text = re.sub(r'(remotedisplay\.vnc\.port = )"\d+"', r'\1"<port>"', text)
    text = re.sub(r'(remotedisplay\.vnc\.password = )"\w+"', r'\1"<password>"', text)
    return text.splitlines()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.conftest import packer_available, require_tool

    require_vmware_standin()
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    dirs = {}
    for tool in ("packer", "imagesmith"):
        work = tmp_path_factory.mktemp(f"vmware-{tool}")
        (work / "template.json").write_text(template())
        (work / "source").mkdir()
        (work / "source" / "source.vmx").write_text(SOURCE_VMX)
        for name, text in MEDIA.items():
            (work / "media" / name).parent.mkdir(parents=True, exist_ok=True)
            (work / "media" / name).write_text(text)
        subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(work / "source" / "source-disk.vmdk"), "16M"],
                       check=True)  # fmt: skip
        run = packer_build if tool == "packer" else imagesmith_build
        result = run(work, "template.json")
        (work / "output.txt").write_text(result.stdout + result.stderr)
        dirs[tool] = work
    return dirs


@pytest.mark.parametrize("case", CASE_NAMES)
def test_vmx_at_power_on_is_packers(builds: dict[str, Path], case: str) -> None:
    def snapshot(tool: str) -> str | None:
        found = start_snapshots(builds[tool])
        if CASES[case].get("type") == "vmware-vmx":
            return next((text for name, text in found.items() if re.fullmatch(rf"packer-{case}-\d+\.vmx", name)), None)
        return found.get(vmx_name(case))

    ours, theirs = snapshot("imagesmith"), snapshot("packer")
    assert theirs is not None, (builds["packer"] / "output.txt").read_text()[-3000:]
    assert ours is not None, (builds["imagesmith"] / "output.txt").read_text()[-3000:]
    assert normalise(ours) == normalise(theirs)


@pytest.mark.parametrize("case", [c for c in CASE_NAMES if CASES[c].get("disable_vnc")])
def test_finished_vmx_and_files_are_packers(builds: dict[str, Path], case: str) -> None:
    out = {tool: builds[tool] / f"out-{case}" for tool in builds}
    assert out["packer"].is_dir(), (builds["packer"] / "output.txt").read_text()[-3000:]
    assert out["imagesmith"].is_dir(), (builds["imagesmith"] / "output.txt").read_text()[-3000:]
    names = {tool: sorted(without_time([p.name for p in out[tool].iterdir()])) for tool in out}
    assert names["imagesmith"] == names["packer"]
    ours, theirs = (vmx_file(out[tool], case).read_text() for tool in ("imagesmith", "packer"))
    assert normalise(ours) == normalise(theirs)


def floppy_listing(image: Path) -> list[str]:
    """Every file on a FAT image with its content, and the volume label (mtools)."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    names = subprocess.run(["mdir", "-i", str(image), "-/", "-b", "::/"], capture_output=True, text=True,
                           env=env, check=True).stdout.split()  # fmt: skip
    label = subprocess.run(["mlabel", "-i", str(image), "-s", "::"], capture_output=True, text=True, env=env).stdout
    out = [f"label: {label.strip()}"]
    for name in sorted(names):
        body = subprocess.run(["mtype", "-i", str(image), name], capture_output=True, text=True, env=env).stdout
        out.append(f"{name.lower()}: {body!r}")
    return out


def iso_listing(image: Path) -> list[str]:
    """Every path on an ISO (Rock Ridge names) and the volume id (xorriso)."""
    result = subprocess.run(["xorriso", "-indev", str(image), "-pvd_info", "-find", "/", "-exec", "lsdl"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    lines = (result.stdout + result.stderr).splitlines()
    volume = [line for line in lines if line.startswith("Volume Id")]
    paths = sorted(re.sub(r"^.*? '(/[^']*)'$", r"\1", line) for line in lines
                   if line.endswith("'") and " '/" in line and str(image) not in line)  # fmt: skip
    return volume + paths


@pytest.mark.parametrize("case", ["media", "clone-media"])
def test_floppy_and_cd_hold_what_packers_hold(builds: dict[str, Path], case: str) -> None:
    """The floppy and the CD as they were at power-on (copied by the stand-in): same label, same
    files with the same content (Packer's go-fs floppy against mkfs.fat + mcopy)."""
    found = {}
    for tool in builds:
        state = builds[tool] / "standin-state"
        prefix = f"start-packer-{case}"
        mine = rf"{prefix}(-\d+)?(-\w+)?\.(flp|iso)"
        floppies = [p for p in state.glob("*.flp") if re.fullmatch(mine, p.name)]
        isos = [p for p in state.glob("*.iso") if re.fullmatch(mine, p.name)]
        assert len(floppies) == 1, (tool, sorted(p.name for p in state.iterdir()))
        found[tool] = (floppy_listing(floppies[0]), [iso_listing(iso) for iso in isos])
    assert found["imagesmith"] == found["packer"]
    floppy, isos = found["packer"]
    assert any("ks.cfg" in line for line in floppy) and any(line.startswith("label: ") for line in floppy)
    # vmware-vmx: the source's own "ide1:0.devicetype = cdrom-raw" sorts after Packer's
    # "ide1:0.deviceType = cdrom-image", so VMware (and the stand-in) see no CD image there
    assert len(isos) == (1 if case == "media" else 0)
    assert all(iso[0].startswith("Volume Id") for iso in isos)


def test_vnc_build_fails_like_packer_and_leaves_no_output(builds: dict[str, Path]) -> None:
    """The record-mode stand-in runs no VNC server: both fail connecting and delete the output."""
    for tool in builds:
        assert not (builds[tool] / "out-vnc").exists()
    assert "Error connecting to VNC" in (builds["packer"] / "output.txt").read_text()
    assert "Error connecting to VNC" in (builds["imagesmith"] / "output.txt").read_text()


def test_vmrun_calls_are_packers(builds: dict[str, Path]) -> None:
    """The same start/stop calls (builds run in parallel, so compared as sorted lists), and
    ``vmrun list`` polling in both."""
    ours, theirs = ([without_time(a) for a in vmrun_calls(builds[tool])] for tool in ("imagesmith", "packer"))
    assert sorted(a for a in ours if a[2] != "list") == sorted(a for a in theirs if a[2] != "list")
    assert any(a[2] == "list" for a in ours) and any(a[2] == "list" for a in theirs)
    for calls in (ours, theirs):
        for vmx in {a[3] for a in calls if a[2] == "start"}:
            verbs = [a[2] for a in calls if a[2] != "list" and a[3] == vmx]
            assert verbs in (["start", "stop"], ["start"]), verbs

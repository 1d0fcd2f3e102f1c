"""vmware-iso end to end on the test guest through the VMware stand-in in ``qemu`` mode, side by
side with Packer 1.6.6: VNC typing (with VMware's password), kickstart over HTTP, the guest IP from
the vmnet8 DHCP leases, SSH, provisioning, shutdown, compaction, and a ``vmware_desktop`` Vagrant
box. Stand-in only: the VM runs under QEMU (TCG), not VMware. Slow (two installs under TCG).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import packer_available, require_tool
from tests.integration.vmware_support import (
    ROOT,
    imagesmith_build,
    packer_build,
    require_vmware_standin,
    vmrun_calls,
)

# two TCG installs on a shared 2-core machine: generous, never a reason to fail on a slow machine
pytestmark = [pytest.mark.integration, pytest.mark.compat, pytest.mark.slow, pytest.mark.timeout(5400)]

SCRIPT = ROOT / "scripts" / "fixtures" / "test-guest-iso.sh"
CACHE = Path(os.environ.get("IMAGESMITH_TEST_GUEST_DIR", "/var/cache/imagesmith/test-guest"))
GUEST = ROOT / "tests" / "guest"


def template(iso: Path) -> str:
    builder = {
        "type": "vmware-iso", "iso_url": str(iso), "iso_checksum": f"file:{iso}.sha256", "output_directory": "out",
        "vm_name": "guest", "disk_size": 512, "headless": True, "memory": 512, "disk_adapter_type": "pvscsi",
        "network_adapter_type": "vmxnet3", "http_directory": str(GUEST / "http"), "boot_wait": "3s",
        "boot_command": ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
        "communicator": "ssh", "ssh_username": "root", "ssh_password": "packer", "ssh_timeout": "10m",
        "ssh_file_transfer_method": "scp", "shutdown_command": "shutdown -h now", "shutdown_timeout": "2m",
    }  # fmt: skip
    return json.dumps({
        "builders": [builder],
        "provisioners": [{"type": "shell", "inline": ["echo marked > /root/provisioned"]}],
        "post-processors": [{"type": "vagrant", "output": "guest.box"}],
    })  # fmt: skip


@pytest.fixture(scope="module")
def guest_iso() -> Path:
    """The test guest with its VMware drivers (scripts/fixtures/test-guest-iso.sh, a no-op when current)."""
    require_vmware_standin()
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    require_tool(shutil.which("debugfs") is not None, "needs debugfs (e2fsprogs) to read the built disks")
    subprocess.run(["bash", str(SCRIPT)], check=True, timeout=600)
    return CACHE / "test-guest.iso"


@pytest.fixture(scope="module")
def boxes(guest_iso: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    dirs = {}
    for tool, build in (("packer", packer_build), ("imagesmith", imagesmith_build)):
        work = tmp_path_factory.mktemp(f"vmware-e2e-{tool}")
        (work / "template.json").write_text(template(guest_iso))
        result = build(work, "template.json", "qemu", 1800)
        (work / "output.txt").write_text(result.stdout + result.stderr)
        assert result.returncode == 0, f"{tool} failed:\n{(result.stdout + result.stderr)[-4000:]}"
        (work / "box").mkdir()
        # GNU tar: Python's tarfile misreads the headers Go's archive/tar writes in Packer's boxes
        subprocess.run(["tar", "-xzf", str(work / "guest.box"), "-C", str(work / "box")], check=True)
        dirs[tool] = work
    return dirs


def provisioned_mark(disk: Path, scratch: Path) -> str:
    raw = scratch / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(disk), str(raw)], check=True)
    part = scratch / "root.img"  # the root partition starts at sector 2048 (tests/guest/http/ks.cfg)
    with raw.open("rb") as src, part.open("wb") as dst:
        src.seek(2048 * 512)
        shutil.copyfileobj(src, dst)
    raw.unlink()
    out = subprocess.run(["debugfs", "-R", "cat /root/provisioned", str(part)], capture_output=True, text=True)
    part.unlink()
    return out.stdout.strip()


def test_standin_e2e_boxes_match_packers(boxes: dict[str, Path]) -> None:
    ours, theirs = boxes["imagesmith"] / "box", boxes["packer"] / "box"
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
    for name in ("metadata.json", "Vagrantfile"):
        assert (ours / name).read_text() == (theirs / name).read_text(), name

    def vmx(path: Path) -> str:
        return re.sub(r'(remotedisplay\.vnc\.(port|password) = )"\w+"', r'\1"<x>"', path.read_text())

    assert vmx(ours / "guest.vmx") == vmx(theirs / "guest.vmx")


def test_standin_e2e_both_disks_hold_the_provisioners_mark(boxes: dict[str, Path], tmp_path: Path) -> None:
    for tool in boxes:
        assert provisioned_mark(boxes[tool] / "box" / "disk.vmdk", tmp_path) == "marked", tool


def test_standin_e2e_vmrun_calls_match_packers(boxes: dict[str, Path]) -> None:
    def collapsed(tool: str) -> list[list[str]]:
        calls: list[list[str]] = []
        for argv in vmrun_calls(boxes[tool]):
            if not (calls and argv == calls[-1] and argv[2] == "list"):  # polls: how many depends on timing
                calls.append(argv)
        return calls

    assert collapsed("imagesmith") == collapsed("packer")
    assert collapsed("packer")[0] == ["-T", "player", "start", "out/guest.vmx", "nogui"]


def typed_keys(work: Path) -> list[tuple[int, int]]:
    """The key events the stand-in's VNC recorder saw, in order: (down, keysym), with the typed HTTP
    port (each tool picks its own in 8000-9000) replaced by (-1, -1)."""
    log = work / "standin-state" / "keys-guest.jsonl"
    assert log.exists(), f"no key events recorded in {work}"
    events = [(e["down"], e["keysym"]) for e in map(json.loads, log.read_text().splitlines())]
    port = re.search(r"Starting HTTP server on port (\d+)", (work / "output.txt").read_text())
    assert port is not None
    digits = [(down, ord(c)) for c in port[1] for down in (1, 0)]
    for i in range(len(events) - len(digits) + 1):
        if events[i : i + len(digits)] == digits:
            return [*events[:i], (-1, -1), *events[i + len(digits) :]]
    raise AssertionError(f"port {port[1]} not typed: {events}")


def test_standin_e2e_typed_key_streams_match_packers(boxes: dict[str, Path]) -> None:
    """The VNC key events (keysym, press/release, order), recorded by the stand-in, are Packer's
    exactly, the HTTP port excepted."""
    ours, theirs = typed_keys(boxes["imagesmith"]), typed_keys(boxes["packer"])
    assert ours == theirs
    pressed = [k for down, k in theirs if down == 1]
    assert pressed[0] == 0xFF1B and pressed[-1] == 0xFF0D  # <esc> first, <enter> last
    typed = "".join(chr(k) for k in pressed if k < 0x100)
    assert typed.startswith("install ks=http://10.0.2.2") and typed.endswith("/ks.cfg"), typed

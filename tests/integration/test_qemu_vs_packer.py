"""Differential: tests/guest/packer-qemu.json built by Packer 1.6.6 and by imagesmith; both disks boot and hold
the same provisioned files.

One build each (in their own temporary directories, each with its own http_directory serving ks.cfg and a fresh
authorized_keys), then each qcow2 is booted with plain QEMU (`-snapshot`) and the provisioners' marks are read
back over SSH (host keys checked) and compared file by file, after which `poweroff` must make QEMU exit.
Helpers come from test_guest_packer.py (booting, SSH, stopping a process group).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_guest_packer import (  # noqa: F401 (guest_iso: a fixture, found by name)
    GUEST,
    _boot,
    _free_port,
    _sha256,
    _ssh_argv,
    _wait_for_ssh,
    guest_iso,
    run_build,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# Every file the provisioners leave on the guest (plus the installer's own mark), read back after a fresh boot.
MARK_FILES = [
    "/root/mark-inline",
    "/root/payload.txt",
    "/root/tree/top.txt",
    "/root/tree/sub/nested.txt",
    "/root/mark-script",
    "/root/mark-sums",
    "/etc/imagesmith-guest-installed",
]
LISTING = "find /root -type f | sort"


def _build(tool: str, tmp: Path, key: Path) -> tuple[Path, float]:
    """Build the template with ``tool`` in ``tmp``; return the qcow2 and the wall time. Stops everything it starts."""
    http = tmp / "http"
    http.mkdir(parents=True)
    shutil.copy(GUEST / "http" / "ks.cfg", http / "ks.cfg")
    shutil.copy(key.with_suffix(".pub"), http / "authorized_keys")
    head = ["packer"] if tool == "packer" else [sys.executable, "-m", "imagesmith"]
    argv = [*head, "build", "-color=false"]
    variables = {"output_directory": tmp / "out", "http_directory": http, "download_dir": tmp,
                 "serial": f"file:{tmp / 'serial.log'}"}  # fmt: skip
    for name, value in variables.items():
        argv += ["-var", f"{name}={value}"]
    start = time.monotonic()
    proc, timeline = run_build([*argv, str(GUEST / "packer-qemu.json")], tmp, tool)
    serial = (tmp / "serial.log").read_text(errors="replace") if (tmp / "serial.log").exists() else ""
    assert proc.returncode == 0, f"{tool} build failed:\n{timeline.text()}\n--- serial ---\n{serial[-3000:]}"
    disk = tmp / "out" / "test-guest.qcow2"
    assert disk.is_file(), timeline.text()
    return disk, time.monotonic() - start


def _read_marks(tmp: Path, disk: Path, key: Path) -> dict[str, str]:
    """Boot ``disk``, return {path: content} of the marks plus the listing of /root; then power it off."""
    port = _free_port()
    tmp.mkdir()  # its own known_hosts, written for this port
    shutil.copy(key, tmp / "id_ed25519")
    script = LISTING + "".join(f"; echo '=== {f}'; cat {f}" for f in MARK_FILES)
    with _boot(disk, port) as qemu:
        _wait_for_ssh(tmp, port, qemu, timeout=120)
        got = subprocess.run([*_ssh_argv(tmp, port), script], capture_output=True, text=True, timeout=30)
        assert got.returncode == 0, got.stderr
        subprocess.run([*_ssh_argv(tmp, port), "poweroff"], capture_output=True, timeout=30)
        qemu.wait(30)  # the artifact powers off by itself
    parts = re.split(r"^=== (\S+)\n", got.stdout, flags=re.M)
    marks = {"listing": parts[0]}
    marks.update(zip(parts[1::2], parts[2::2], strict=True))
    return marks


@pytest.mark.timeout(900)
@pytest.mark.usefixtures("guest_iso")  # the test guest ISO, built or up to date
def test_packer_and_imagesmith_artifacts_hold_the_same_files(
    need_packer: None, need_qemu: None, tmp_path: Path
) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    marks: dict[str, dict[str, str]] = {}
    downloaded: dict[str, str] = {}
    try:
        for tool in ("packer", "imagesmith"):
            disk, took = _build(tool, tmp_path / tool, key)
            info = subprocess.run(["qemu-img", "info", str(disk)], capture_output=True, text=True, check=True)
            assert "file format: qcow2" in info.stdout
            downloaded[tool] = (tmp_path / tool / "mark-sums").read_text()
            marks[tool] = _read_marks(tmp_path / tool / "ssh", disk, key)
            print(f"\n{tool}: built in {took:.1f} s")
    finally:
        for tool in ("packer", "imagesmith"):
            shutil.rmtree(tmp_path / tool / "out", ignore_errors=True)
    packer, imagesmith = marks["packer"], marks["imagesmith"]
    # The installer's mark names the builder's HTTP port, which each tool picks for itself.
    for found in (packer, imagesmith):
        found["/etc/imagesmith-guest-installed"] = re.sub(r":\d+/", ":PORT/", found["/etc/imagesmith-guest-installed"])
    assert imagesmith == packer
    assert downloaded["imagesmith"] == downloaded["packer"]
    # ... and what they hold is what the template's provisioners put there.
    provision = GUEST / "provision"
    uploaded = [provision / "payload.txt", provision / "tree" / "top.txt", provision / "tree" / "sub" / "nested.txt"]
    assert downloaded["packer"].split()[0::2] == [_sha256(p) for p in uploaded]
    assert packer["/root/mark-script"] == "script ran with MARK_VALUE=from-packer as root in /root\n"
    assert packer["/root/mark-inline"].startswith("inline ran on testguest, kernel ")
    assert packer["/root/payload.txt"] == (provision / "payload.txt").read_text()
    assert packer["/root/tree/sub/nested.txt"] == (provision / "tree" / "sub" / "nested.txt").read_text()
    assert packer["/etc/imagesmith-guest-installed"] == "installed by http://10.0.2.2:PORT/ks.cfg\n"
    for path in MARK_FILES[:-1]:
        assert path in packer["listing"].split()

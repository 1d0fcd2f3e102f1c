"""The qemu builder end to end on the test guest (TCG): typing, HTTP, SSH, provisioning, shutdown,
export; Ctrl-C and shutdown timeouts leave nothing behind. Needs the ISO from
scripts/fixtures/test-guest-iso.sh."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import string
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.qemu.builder import QemuBuilder
from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.core.plugin import BuildContext, BuildInfo, Communicator
from imagesmith.errors import BuildError, Problem
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

pytestmark = pytest.mark.integration
GUEST_DIR = Path(os.environ.get("IMAGESMITH_TEST_GUEST_DIR", "/var/cache/imagesmith/test-guest"))
ISO = GUEST_DIR / "test-guest.iso"
HTTP_DIR = Path(__file__).resolve().parents[1] / "guest" / "http"


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str]] = []
        self.t0 = time.monotonic()

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((time.monotonic() - self.t0, kind, message))

    def find(self, pattern: str) -> re.Match[str] | None:
        for _, _, message in self.lines:
            m = re.search(pattern, message)
            if m:
                return m
        return None

    def dump(self) -> str:
        return "\n".join(f"{t:7.2f} {k}: {m}" for t, k, m in self.lines)


@pytest.fixture
def guest(need_qemu: None) -> Path:
    from tests.conftest import require_tool

    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    return ISO


def make_config(tmp: Path, **overrides: Any) -> QemuConfig:
    raw: dict[str, Any] = {
        "iso_url": str(ISO), "iso_checksum": f"file:{ISO}.sha256", "output_directory": str(tmp / "out"),
        "vm_name": "guest.qcow2", "disk_size": "512M", "accelerator": "tcg", "headless": True,
        "http_directory": str(HTTP_DIR), "boot_wait": "2s",
        "boot_command": ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
        "ssh_username": "root", "ssh_password": "packer", "ssh_timeout": "3m",
        "shutdown_command": "shutdown -h now", "shutdown_timeout": "1m",
        "qemuargs": [["-serial", f"file:{tmp}/serial.log"]],
    }  # fmt: skip
    raw.update(overrides)
    problems: list[Problem] = []
    cfg = decode_config(QemuConfig, raw, render=None, path="builders[0]", problems=problems)
    assert problems == []
    return cfg


async def _noop(comm: Communicator | None, data: Mapping[str, str]) -> None:
    pass


def _qemu_pids(marker: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"qemu-system" in cmdline and marker.encode() in cmdline:
                pids.append(int(entry))
    return pids


def _run_dirs(pids: list[int]) -> set[str]:
    """The private directories (QMP socket) on the command lines of ``pids``."""
    found = set()
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        found |= set(re.findall(r"unix:(/[^,\x00]*)/qmp\.sock", cmdline))
    return found


def _serial_tail(tmp: Path) -> str:
    try:
        return (tmp / "serial.log").read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# 200 characters typed at the boot prompt: the ks URL carries a query the HTTP server logs.
QUERY = (string.ascii_letters + string.digits + "-_.~+=,:@") * 3
PREFIX = "install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg?"


@pytest.fixture(scope="module")
def iso_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One build from the ISO with a 200-character boot command; later tests boot its disk."""
    import shutil

    from tests.conftest import require_tool

    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    tmp_path = tmp_path_factory.mktemp("iso-build")
    typed_prefix_len = len("install ks=http://10.0.2.2:8000/ks.cfg?")
    query = QUERY[: 200 - typed_prefix_len]
    cfg = make_config(tmp_path, boot_command=["<esc><wait>", PREFIX + query, "<enter>"], http_port_min=8000,
                      http_port_max=8000)  # fmt: skip
    ui = RecordingUi()
    seen: dict[str, Any] = {"ui": ui, "query": query, "tmp": tmp_path}

    async def provision(comm: Communicator | None, data: Mapping[str, str]) -> None:
        assert comm is not None
        out: list[str] = []
        seen["status"] = await comm.execute("echo marked > /root/mark && cat /root/mark", stdout=out.append)
        seen["out"] = out
        seen["data"] = dict(data)

    builder = QemuBuilder(cfg, BuildInfo(build_name="qemu", builder_type="qemu"))
    started = time.monotonic()
    try:
        seen["artifact"] = asyncio.run(builder.run(BuildContext(ui, builder.info, provision, _noop)))
    except BuildError as exc:
        pytest.fail(f"{exc}\n{ui.dump()}\nserial:\n{_serial_tail(tmp_path)}")
    seen["elapsed"] = time.monotonic() - started
    return seen


def test_build_types_200_chars_exactly_and_provisions(iso_build: dict[str, Any]) -> None:
    ui, query, tmp_path, artifact = iso_build["ui"], iso_build["query"], iso_build["tmp"], iso_build["artifact"]
    seen = iso_build
    assert artifact is not None, ui.dump()
    assert artifact.files == [str(tmp_path / "out" / "guest.qcow2")]
    assert str(artifact) == f"VM files in directory: {tmp_path / 'out'}"
    assert seen["status"] == 0 and seen["out"] == ["marked"]
    assert seen["data"]["PackerHTTPIP"] == "10.0.2.2" and seen["data"]["Host"] == "127.0.0.1"
    # exactly what was typed reached the guest, which fetched it from us
    assert ui.find(r"GET /ks\.cfg\?" + re.escape(query) + " 200"), ui.dump()  # nothing dropped
    typed = ui.find(r"Typed (\d+) key actions in ([\d.]+)s")
    assert typed is not None
    n_keys, seconds = int(typed.group(1)), float(typed.group(2)) - 1.0  # minus the <wait>
    assert n_keys == 1 + 1 + 200 + 1  # <esc> <wait> 200 chars <enter>
    # Packer sleeps 100 ms after each key event: 2 per plain key, 4 per shifted one.
    packer_seconds = sum(0.4 if c in string.ascii_uppercase + "_+:@~" else 0.2 for c in query) + 0.2 * 40
    # Pauses last until the guest's vCPUs have run, so a host overloaded by other work slows typing down
    # (keys are never lost); the speed claim is checked only when the host has CPU to spare.
    if os.getloadavg()[0] < 2 * (os.cpu_count() or 1):
        assert seconds * 10 < packer_seconds, (seconds, packer_seconds)
    info = subprocess.run(["qemu-img", "check", artifact.files[0]], capture_output=True, text=True)
    assert info.returncode == 0, info.stdout + info.stderr
    assert iso_build["elapsed"] < 120, ui.dump()


def test_disk_image_with_backing_file_boots_the_result(iso_build: dict[str, Any], tmp_path: Path) -> None:
    """disk_image + use_backing_file: the ISO build's disk boots, keeps its provisioned mark, is not touched."""
    base = iso_build["artifact"].files[0]
    before = Path(base).stat().st_mtime_ns
    cfg = make_config(tmp_path, iso_url=base, iso_checksum="none", disk_image=True, use_backing_file=True,
                      boot_command=[], boot_wait="0s", disk_size="1G")  # fmt: skip
    ui = RecordingUi()
    seen: dict[str, Any] = {}

    async def provision(comm: Communicator | None, data: Mapping[str, str]) -> None:
        assert comm is not None
        out: list[str] = []
        seen["status"] = await comm.execute("cat /root/mark", stdout=out.append)
        seen["out"] = out

    builder = QemuBuilder(cfg, BuildInfo(build_name="qemu", builder_type="qemu"))
    try:
        artifact = asyncio.run(builder.run(BuildContext(ui, builder.info, provision, _noop)))
    except BuildError as exc:
        pytest.fail(f"{exc}\n{ui.dump()}\nserial:\n{_serial_tail(tmp_path)}")
    assert (seen["status"], seen["out"]) == (0, ["marked"])
    assert artifact is not None and ui.find("Starting VM, booting disk image")
    info = subprocess.run(["qemu-img", "info", "--output=json", artifact.files[0]], capture_output=True, text=True)
    assert f'"backing-filename": "{base}"' in info.stdout and '"virtual-size": 1073741824' in info.stdout
    assert Path(base).stat().st_mtime_ns == before


def test_ctrl_c_while_waiting_for_ssh_leaves_nothing(guest: Path, tmp_path: Path) -> None:
    cfg = make_config(tmp_path, boot_command=["<esc><wait>shell<enter>"])  # rescue shell: SSH never comes
    ui = RecordingUi()
    builder = QemuBuilder(cfg, BuildInfo(build_name="qemu", builder_type="qemu"))
    ports: dict[str, int] = {}
    run_dirs: set[str] = set()

    async def main() -> None:
        task = asyncio.ensure_future(builder.run(BuildContext(ui, builder.info, _noop, _noop)))
        for _ in range(600):
            await asyncio.sleep(0.05)
            if ui.find("Waiting for SSH to become available"):
                break
        pids = _qemu_pids(str(tmp_path))
        assert pids, ui.dump()
        run_dirs.update(_run_dirs(pids))
        for key, pattern in (("http", r"HTTP server on port (\d+)"), ("vnc", r"VNC port: (\d+)")):
            m = ui.find(pattern)
            assert m is not None
            ports[key] = int(m.group(1))
        assert _listening(ports["http"]) and _listening(ports["vnc"])
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert _qemu_pids(str(tmp_path)) == []
    assert not _listening(ports["http"]) and not _listening(ports["vnc"])
    assert not (tmp_path / "out").exists()
    assert run_dirs and not any(os.path.exists(d) for d in run_dirs)


def test_shutdown_timeout_stops_qemu_and_says_so(guest: Path, tmp_path: Path) -> None:
    # typed over VNC (Packer's way, here with 20 ms per key event): reaching SSH proves the keys arrived
    cfg = make_config(tmp_path, shutdown_command="true", shutdown_timeout="2s", ssh_timeout="90s",
                      boot_command_driver="vnc", boot_key_interval="20ms")  # fmt: skip
    ui = RecordingUi()
    builder = QemuBuilder(cfg, BuildInfo(build_name="qemu", builder_type="qemu"))
    with pytest.raises(BuildError) as err:
        asyncio.run(builder.run(BuildContext(ui, builder.info, _noop, _noop)))
    assert "Timeout while waiting for machine to shut down" in str(err.value), ui.dump() + _serial_tail(tmp_path)
    assert ui.find("Typing the boot command over VNC")
    assert _qemu_pids(str(tmp_path)) == []
    assert not (tmp_path / "out").exists()

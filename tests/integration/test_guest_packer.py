"""The test guest end to end, with Packer 1.6.6 as the oracle.

`packer build tests/guest/packer-qemu.json` installs the test guest from its ISO (boot prompt typed over VNC,
ks.cfg over Packer's HTTP server, SSH, shell and file provisioners, shutdown, qemu-img convert); then the
resulting qcow2 is booted with plain qemu and the provisioners' marks are read back over SSH, checking the
guest's host keys against the ones the fixture script made. Each phase's wall time is printed (pytest -s) and
the guest's own milestones come from its serial console, timestamped on arrival.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.packer_oracle import survive_crash

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GUEST = ROOT / "tests" / "guest"
SCRIPT = ROOT / "scripts" / "fixtures" / "test-guest-iso.sh"
BUILD_TIMEOUT = 420
CACHE = Path(os.environ.get("IMAGESMITH_TEST_GUEST_DIR", "/var/cache/imagesmith/test-guest"))

# Packer's UI lines that open each phase, in order; the phase runs until the next one's line.
PHASES = [
    ("boot_wait", "for boot..."),
    ("vnc_connect", "Connecting to VM via VNC"),
    ("typing", "Typing the boot command"),
    ("install_and_ssh_wait", "Waiting for SSH to become available"),
    ("provisioning", "Connected to SSH!"),
    ("shutdown", "Gracefully halting virtual machine"),
    ("convert", "Converting hard drive"),
    ("end", "finished after"),
]


@dataclass
class Timeline:
    """Lines from a stream, each with its arrival time (seconds since ``start``)."""

    start: float = field(default_factory=time.monotonic)
    lines: list[tuple[float, str]] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append((time.monotonic() - self.start, line.rstrip()))

    def when(self, needle: str) -> float | None:
        return next((t for t, line in self.lines if needle in line), None)

    def text(self) -> str:
        return "\n".join(f"{t:7.2f} {line}" for t, line in self.lines)


@pytest.fixture(scope="module")
def guest_iso() -> Path:
    """The ISO from scripts/fixtures/test-guest-iso.sh (a no-op when it is up to date)."""
    if not shutil.which("xorriso") or not list(Path("/boot").glob("vmlinuz-*-cloud-amd64")):
        from tests.conftest import require_tool

        require_tool(False, "needs xorriso and linux-image-cloud-amd64 (scripts/setup.sh installs them)")
    subprocess.run(["bash", str(SCRIPT)], check=True, timeout=300)
    return CACHE / "test-guest.iso"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serial_listener(timeline: Timeline) -> tuple[int, socket.socket]:
    """Listen on loopback for QEMU's serial port (`-serial tcp:...`) and timestamp every line it sends."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(120)

    def pump() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn, conn.makefile("r", encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.strip():
                    timeline.add(line)

    threading.Thread(target=pump, daemon=True).start()
    return int(server.getsockname()[1]), server


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """Stop a process started with start_new_session and everything left in its group (Packer's qemu)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGINT)  # Packer's inner process cancels cleanly and stops qemu
            proc.wait(20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _packer_build(tmp: Path, transfer: str, serial_port: int) -> tuple[subprocess.Popen[str], Timeline]:
    http = tmp / "http"
    http.mkdir()
    shutil.copy(GUEST / "http" / "ks.cfg", http / "ks.cfg")
    shutil.copy(tmp / "id_ed25519.pub", http / "authorized_keys")
    variables = {
        "output_directory": str(tmp / "out"),
        "http_directory": str(http),
        "serial": f"tcp:127.0.0.1:{serial_port}",
        "ssh_file_transfer_method": transfer,
        "download_dir": str(tmp),
    }
    argv = ["packer", "build", "-color=false"]
    for name, value in variables.items():
        argv += ["-var", f"{name}={value}"]
    argv.append(str(GUEST / "packer-qemu.json"))
    return run_build(argv, tmp, "packer")


def run_build(argv: list[str], tmp: Path, tool: str) -> tuple[subprocess.Popen[str], Timeline]:
    """Run a build command in ``tmp`` (CHECKPOINT_DISABLE, a private PACKER_CACHE_DIR), each output line
    timestamped on arrival; fail after BUILD_TIMEOUT. Its whole process group is stopped afterwards, also on
    a failure or pytest's timeout, so no packer, imagesmith or qemu is left behind. Packer runs through
    tests/packer_oracle.py's survive_crash: a build Packer itself crashed is run once more."""
    if tool != "packer":
        return _run_build_once(argv, tmp, tool)
    shown = " ".join(argv) + f"  (in {tmp})"
    return survive_crash(tmp, shown, lambda: _run_build_once(argv, tmp, tool), lambda done: done[1].text())


def _run_build_once(argv: list[str], tmp: Path, tool: str) -> tuple[subprocess.Popen[str], Timeline]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_CACHE_DIR": str(tmp / "packer_cache")}
    timeline = Timeline()
    proc = subprocess.Popen(
        argv, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: [timeline.add(line) for line in stdout], daemon=True)
    reader.start()
    try:
        proc.wait(BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{tool} build took more than {BUILD_TIMEOUT} s:\n{timeline.text()}")
    finally:
        _stop_group(proc)
        reader.join(10)
    return proc, timeline


def _phase_times(timeline: Timeline) -> dict[str, float]:
    marks = [(name, timeline.when(needle)) for name, needle in PHASES]
    times: dict[str, float] = {}
    for (name, start), (_, end) in itertools.pairwise(marks):
        if start is not None and end is not None:
            times[name] = round(end - start, 2)
    end = timeline.when("finished after")
    if end is not None:
        times["total"] = round(end, 2)
    return times


def _guest_milestones(serial: Timeline, packer: Timeline) -> dict[str, float]:
    """Guest events from its serial console, on Packer's clock (seconds since `packer build` started)."""
    offset = serial.start - packer.start
    wanted = [
        ("installer_kernel_up", "] initramfs", 0),
        ("ks_fetched", "] running http", 0),
        ("install_done", "] ks script done", 0),
        ("installed_kernel_up", "] initramfs", -1),
        ("ssh_server_up", "] up: ssh on", 0),
    ]
    out: dict[str, float] = {}
    for name, needle, index in wanted:
        hits = [t for t, line in serial.lines if needle in line]
        if hits:
            out[name] = round(hits[index] + offset, 2)
    connected = packer.when("Connected to SSH!")
    if connected is not None and "ssh_server_up" in out:
        out["packer_ssh_latency"] = round(connected - out["ssh_server_up"], 2)
    return out


@contextlib.contextmanager
def _boot(disk: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Boot a disk image (in snapshot mode, so it stays as built) with SSH forwarded from loopback."""
    argv = [
        "qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "512", "-display", "none", "-snapshot",
        "-drive", f"file={disk},if=virtio,format=qcow2",
        "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22", "-device", "virtio-net,netdev=n0",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _ssh_argv(tmp: Path, port: int) -> list[str]:
    known_hosts = tmp / "known_hosts"
    if not known_hosts.exists():  # the guest must present the host keys the fixture script made
        keys = sorted((CACHE / "hostkeys").glob("*.pub"))
        known_hosts.write_text("".join(f"[127.0.0.1]:{port} {k.read_text().strip()}\n" for k in keys))
    return [
        "ssh", "-p", str(port), "-i", str(tmp / "id_ed25519"), "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}", "-o", "ConnectTimeout=2",
        "-o", "LogLevel=ERROR", "root@127.0.0.1",
    ]  # fmt: skip


def _wait_for_ssh(tmp: Path, port: int, qemu: subprocess.Popen[bytes], timeout: float) -> float:
    """Try a fresh connection every 0.3 s (QEMU's user-mode SYN retransmits are slow); return seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert qemu.poll() is None, f"qemu exited early: {qemu.stderr.read() if qemu.stderr else ''!r}"
        probe = subprocess.run([*_ssh_argv(tmp, port), "true"], capture_output=True, timeout=10)
        if probe.returncode == 0:
            return time.monotonic() - start
        time.sleep(0.3)
    raise AssertionError(f"no SSH on 127.0.0.1:{port} after {timeout} s")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PACKER_SHUTDOWN_FLAKE = "Failed to send shutdown command: EOF"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("transfer", ["scp", "sftp"])
def test_packer_builds_test_guest_and_result_boots(
    need_packer: None, need_qemu: None, guest_iso: Path, tmp_path: Path, transfer: str
) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id_ed25519")], check=True)
    for attempt in (1, 2):
        serial = Timeline()
        serial_port, server = _serial_listener(serial)
        with server:
            proc, packer = _packer_build(tmp_path, transfer, serial_port)
        if proc.returncode == 0 or PACKER_SHUTDOWN_FLAKE not in packer.text() or attempt == 2:
            break
        # Packer 1.6.6's own SSH client sometimes gets EOF opening the session for the shutdown
        # command right after its last transfer (seen ~1 run in 3 under sftp, never in the guest):
        # that is the oracle failing, not the guest, so it gets one more try, said in the output.
        print(f"[{transfer}] packer hit {PACKER_SHUTDOWN_FLAKE!r}; retrying once:\n{packer.text()}")
        shutil.rmtree(tmp_path / "http", ignore_errors=True)
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
    try:
        _check_build(tmp_path, transfer, proc, packer, serial)
    finally:
        shutil.rmtree(tmp_path / "out", ignore_errors=True)  # 40 MB a run; pytest keeps its last three tmp trees


def _check_build(
    tmp_path: Path, transfer: str, proc: subprocess.Popen[str], packer: Timeline, serial: Timeline
) -> None:
    print(f"\n[{transfer}] packer phases (s):", _phase_times(packer))
    print(f"[{transfer}] guest milestones (s since packer start):", _guest_milestones(serial, packer))
    print(f"[{transfer}] guest console (s since the serial port connected):\n{serial.text()}")
    assert proc.returncode == 0, f"packer build failed:\n{packer.text()}\n--- serial ---\n{serial.text()}"

    disk = tmp_path / "out" / "test-guest.qcow2"
    assert disk.stat().st_size > 1_000_000
    info = subprocess.run(["qemu-img", "info", str(disk)], capture_output=True, text=True, check=True).stdout
    assert "file format: qcow2" in info
    # The download provisioner brought back the sums the script provisioner made of the uploaded files.
    sums = (tmp_path / "mark-sums").read_text().split()
    provision = GUEST / "provision"
    expected = [provision / "payload.txt", provision / "tree" / "top.txt", provision / "tree" / "sub" / "nested.txt"]
    assert sums[0::2] == [_sha256(p) for p in expected]

    port = _free_port()
    with _boot(disk, port) as qemu:
        waited = _wait_for_ssh(tmp_path, port, qemu, timeout=120)
        marks = subprocess.run(
            [*_ssh_argv(tmp_path, port), "cat /root/mark-inline /root/mark-script /root/payload.txt"
             " /root/tree/sub/nested.txt /etc/imagesmith-guest-installed"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert marks.returncode == 0, marks.stderr
        lines = marks.stdout.splitlines()
        assert lines[0].startswith("inline ran on testguest, kernel ")
        assert lines[1] == "script ran with MARK_VALUE=from-packer as root in /root"
        assert lines[2] == (provision / "payload.txt").read_text().strip()
        assert lines[3] == (provision / "tree" / "sub" / "nested.txt").read_text().strip()
        assert lines[4].startswith("installed by http://10.0.2.2:")
        # poweroff really powers the VM off (ACPI), so qemu exits by itself.
        subprocess.run([*_ssh_argv(tmp_path, port), "poweroff"], capture_output=True, timeout=30)
        start = time.monotonic()
        qemu.wait(30)
        print(f"[{transfer}] artifact: SSH after {waited:.1f} s, powered off in {time.monotonic() - start:.1f} s")


def test_iso_build_is_reproducible(guest_iso: Path, tmp_path: Path) -> None:
    """Same inputs (and host keys), another output directory: the same ISO, byte for byte."""
    shutil.copytree(CACHE / "hostkeys", tmp_path / "hostkeys")
    env = {**os.environ, "IMAGESMITH_TEST_GUEST_DIR": str(tmp_path)}
    subprocess.run(["bash", str(SCRIPT)], check=True, env=env, timeout=300, capture_output=True)
    assert _sha256(tmp_path / "test-guest.iso") == _sha256(guest_iso)
    again = subprocess.run(["bash", str(SCRIPT)], check=True, env=env, timeout=60, capture_output=True, text=True)
    assert "up to date" in again.stderr

"""Ctrl-C at 10 moments across a qemu build (TCG) that boots the test guest's installed disk:
every time imagesmith exits non-zero within 10 s, and no qemu process (nor any other process of
its session, not even a zombie), listening port, temp file or output directory is left.

The guest is installed once from its ISO (a module fixture); each interrupted build boots that
disk through a backing file. Moments are anchored to the phase lines of an uninterrupted baseline
build: for each, a phase line and a seeded random delay within that phase."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.leftovers import Run, run_build, start_build
from tests.integration.test_qemu_build import ISO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GUEST_TEMPLATE = Path(__file__).resolve().parents[1] / "guest" / "packer-qemu.json"
PROVISION_DIR = Path(__file__).resolve().parents[1] / "guest" / "provision"
MOMENTS = 10
SEED = 31337
EXIT_WITHIN = 10.0


@pytest.fixture(scope="module")
def installed_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test guest installed from its ISO once, by a real build."""
    from tests.conftest import require_tool

    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest.sh)")
    base = tmp_path_factory.mktemp("guest")
    out = base / "out"
    run = run_build(
        ["-var", f"output_directory={out}", "-var", f"download_dir={base}", str(GUEST_TEMPLATE)], base, timeout=900
    )
    assert run.returncode == 0, run.output
    yield out / "test-guest.qcow2"


def write_template(tmp_path: Path, disk: Path) -> tuple[str, Path]:
    out = tmp_path / "out"
    builder = {
        "type": "qemu",
        "disk_image": True,
        "use_backing_file": True,
        "iso_url": str(disk),
        "iso_checksum": "none",
        "format": "qcow2",
        "output_directory": str(out),
        "accelerator": "tcg",
        "headless": True,
        "memory": 512,
        "boot_wait": "0s",
        "qemuargs": [["-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"]],
        "communicator": "ssh",
        "ssh_username": "root",
        "ssh_password": "packer",
        "ssh_timeout": "5m",
        "ssh_file_transfer_method": "scp",
        "shutdown_command": "shutdown -h now",
        "shutdown_timeout": "1m",
    }
    provisioners = [
        {"type": "shell", "inline": ["sleep 2", "echo one > /root/one"]},
        {"type": "file", "source": str(PROVISION_DIR / "tree"), "destination": "/root"},
        {"type": "shell", "inline": ["sleep 2", "echo two > /root/two"]},
    ]
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"builders": [builder], "provisioners": provisioners}))
    return str(path), out


def phase_key(line: str) -> str:
    """A phase line without its variable parts (paths, ports): its first three words."""
    return " ".join(line.removeprefix("==> qemu: ").split()[:3])


def pick_moments(events: list[tuple[float, str]], count: int, seed: int) -> list[tuple[str, int, float]]:
    """``count`` (phase key, occurrence, delay) spread evenly over the baseline's phase lines."""
    rng = random.Random(seed)
    seen: dict[str, int] = {}
    phases = []
    for i, (t, line) in enumerate(events):
        key = phase_key(line)
        seen[key] = seen.get(key, 0) + 1
        length = (events[i + 1][0] if i + 1 < len(events) else t + 1.0) - t
        phases.append((key, seen[key], length))
    chosen = [phases[round(i * (len(phases) - 1) / max(count - 1, 1))] for i in range(count)]
    return [(key, nth, rng.uniform(0, min(length, 8.0))) for key, nth, length in chosen]


def timed_lines(proc: subprocess.Popen[str]) -> Iterator[tuple[float, str]]:
    assert proc.stdout is not None
    start = time.monotonic()
    for line in proc.stdout:
        yield time.monotonic() - start, line.rstrip("\n")


def interrupt_after(args: list[str], tmp_path: Path, key: str, nth: int, delay: float) -> tuple[Run, float | None]:
    proc, tmpdir, before, ports = start_build(args, tmp_path)
    lines: list[str] = []
    count = 0
    for _t, line in timed_lines(proc):
        lines.append(line)
        if line.startswith("==> qemu: ") and phase_key(line) == key:
            count += 1
            if count == nth:
                break
    time.sleep(delay)
    sent = None
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
    try:
        rest, _ = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate()
        raise AssertionError("no exit 90 s after SIGINT:\n" + "\n".join(lines) + rest) from None
    took = None if sent is None else time.monotonic() - sent
    output = "\n".join(lines) + "\n" + rest
    return Run(proc.returncode, output, proc.pid, tmpdir, before, ports), took


def test_sigint_at_moments_across_a_qemu_build(need_qemu: None, installed_disk: Path, tmp_path: Path) -> None:
    template, out = write_template(tmp_path, installed_disk)
    proc, tmpdir, before, ports = start_build([template], tmp_path)
    events = [(t, line) for t, line in timed_lines(proc) if line.startswith("==> qemu: ")]
    proc.wait(timeout=600)
    baseline = Run(proc.returncode or 0, "\n".join(line for _t, line in events), proc.pid, tmpdir, before, ports)
    assert proc.returncode == 0 and out.is_dir(), baseline.output
    baseline.assert_clean()
    subprocess.run(["rm", "-rf", str(out)], check=True)
    for key, nth, delay in pick_moments(events, MOMENTS, SEED):
        run, took = interrupt_after([template], tmp_path, key, nth, delay)
        where = f"{delay:.2f} s after {key!r} #{nth}"
        if took is None:
            run.assert_clean()
            subprocess.run(["rm", "-rf", str(out)], check=True)
            continue
        assert run.returncode != 0, f"{where}: exit 0\n{run.output}"
        assert took < EXIT_WITHIN, f"{where}: exited {took:.1f} s after SIGINT\n{run.output}"
        assert "Traceback" not in run.output, f"{where}\n{run.output}"
        finished = "Build 'qemu' finished" in run.output
        run.assert_clean(absent=[] if finished else [out])
        subprocess.run(["rm", "-rf", str(out)], check=True)

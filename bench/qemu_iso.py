"""The ISO flow on QEMU: Packer 1.6.6 vs imagesmith, phase by phase, on tests/guest/packer-qemu.json.

Each round builds the test guest once with `packer build` and once with `python -m imagesmith build`
(one after the other, never together). Every line of each tool's output and of the guest's serial console
(QEMU's `-serial tcp:` to a loopback listener) is timestamped on arrival, on one clock. Phases, from the
tools' UI lines: setup (start to "Waiting ... for boot"), boot_wait, typing (Packer's VNC connect included),
ssh_wait, provisioning, shutdown, export (qemu-img convert); wall = the process's run time. keys_delivered:
from the typing phase's first line to the guest echoing the typed Enter (Packer's VNC keys arrive late: its
"typing" ends before the guest has them, so that phase alone flatters it).

The guest's own time, from its console: boot_wait + (the `boot:` line completed by the typed Enter -> its
`up: ssh on` line) + (the tool's "Gracefully halting" line -> the kernel's `reboot: Power down` line).
overhead = wall - guest. Results go to stdout and under `## qemu_iso` in bench/RESULTS.md.

    python bench/qemu_iso.py [--repeat N] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "tests" / "guest" / "packer-qemu.json"
RESULTS = ROOT / "bench" / "RESULTS.md"
TIMEOUT = 420
SLACK = 1.05  # a phase is "slower" beyond 5 % + 20 ms (timer and scheduling noise)
PHASES = ["setup", "boot_wait", "typing", "ssh_wait", "provisioning", "shutdown", "export"]
# UI line that opens each phase; each runs until the next one's line ("finished after" closes export).
MARKS = [
    ("boot_wait", "for boot..."),
    ("typing", "Typing the boot command|Connecting to VM via VNC"),
    ("ssh_wait", "Waiting for SSH to become available"),
    ("provisioning", "Connected to SSH!"),
    ("shutdown", "Gracefully halting virtual machine"),
    ("export", "Converting hard drive"),
    ("end", "finished after"),
]


class Lines:
    """Lines with their arrival time, in seconds since ``t0``."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.lines: list[tuple[float, str]] = []

    def add(self, line: str) -> None:
        self.lines.append((time.monotonic() - self.t0, line.rstrip()))

    def first(self, pattern: str) -> float | None:
        return next((t for t, line in self.lines if re.search(pattern, line)), None)

    def last(self, pattern: str) -> float | None:
        hits = [t for t, line in self.lines if re.search(pattern, line)]
        return hits[-1] if hits else None


def _serial_listener(lines: Lines) -> tuple[int, socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(120)

    def pump() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with conn, conn.makefile("r", encoding="utf-8", errors="replace") as stream:
                for line in stream:
                    if line.strip():
                        lines.add(line)

    threading.Thread(target=pump, daemon=True).start()
    return int(server.getsockname()[1]), server


def _stop_group(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def build_once(tool: str, tmp: Path) -> tuple[dict[str, float], Lines, Lines]:
    """Build the template with ``tool``; return its phase times and the tool's and guest's lines."""
    tmp.mkdir(parents=True)
    t0 = time.monotonic()
    out, serial = Lines(t0), Lines(t0)
    port, server = _serial_listener(serial)
    head = ["packer"] if tool == "packer" else [sys.executable, "-m", "imagesmith"]
    argv = [*head, "build", "-color=false"]
    variables = {"output_directory": tmp / "out", "download_dir": tmp, "serial": f"tcp:127.0.0.1:{port}"}
    for name, value in variables.items():
        argv += ["-var", f"{name}={value}"]
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_CACHE_DIR": str(tmp / "packer_cache")}
    with server:
        proc = subprocess.Popen([*argv, str(TEMPLATE)], cwd=tmp, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
        assert proc.stdout is not None
        stdout = proc.stdout

        def pump() -> None:
            for line in stdout:
                out.add(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            proc.wait(TIMEOUT)
        finally:
            wall = time.monotonic() - t0
            _stop_group(proc)
            reader.join(10)
    if proc.returncode != 0:
        raise SystemExit(f"{tool} build failed:\n" + "\n".join(f"{t:7.2f} {m}" for t, m in out.lines))
    return _times(out, serial, wall), out, serial


def _times(out: Lines, serial: Lines, wall: float) -> dict[str, float]:
    marks = [(name, out.first(pattern)) for name, pattern in MARKS]
    times: dict[str, float] = {"setup": marks[0][1] or 0.0}
    for (name, start), (_, end) in itertools.pairwise(marks):
        times[name] = (end - start) if start is not None and end is not None else float("nan")
    times["wall"] = wall
    enter = serial.first(r"boot: .*ks=")
    ssh_up = serial.first(r"\] up: ssh on")
    power_down = serial.last(r"reboot: Power down")
    halting = out.first("Gracefully halting")
    if None in (enter, ssh_up, power_down, halting):
        times["guest"] = float("nan")
    else:
        assert enter is not None and ssh_up is not None and power_down is not None and halting is not None
        typing = out.first(MARKS[1][1])
        times["keys_delivered"] = enter - typing if typing is not None else float("nan")
        times["guest_install"] = ssh_up - enter
        times["guest_shutdown"] = power_down - halting
        times["guest"] = times["boot_wait"] + times["guest_install"] + times["guest_shutdown"]
    times["overhead"] = wall - times["guest"]
    return times


def _table(rounds: list[dict[str, dict[str, float]]]) -> list[str]:
    keys = [*PHASES, "wall", "keys_delivered", "guest_install", "guest_shutdown", "guest", "overhead"]
    rows = ["| phase (median s) | packer | imagesmith | imagesmith / packer |", "|---|---:|---:|---:|"]
    for key in keys:
        p = statistics.median(r["packer"].get(key, float("nan")) for r in rounds)
        i = statistics.median(r["imagesmith"].get(key, float("nan")) for r in rounds)
        ratio = f"{i / p:.2f}" if p > 0 else "-"
        rows.append(f"| {key} | {p:.2f} | {i:.2f} | {ratio} |")
    return rows


def _median(rounds: list[dict[str, dict[str, float]]], tool: str, key: str) -> float:
    return statistics.median(r[tool].get(key, float("nan")) for r in rounds)


def _write_results(text: str) -> None:
    current = RESULTS.read_text() if RESULTS.exists() else ""
    section = "## qemu_iso\n\n" + text.strip() + "\n"
    pattern = re.compile(r"^## qemu_iso\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current).rstrip() + "\n"
    else:
        updated = current.rstrip() + "\n\n" + section
    RESULTS.write_text(updated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds (each: one Packer build, one imagesmith build)")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rounds: list[dict[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-qemu-iso-") as tmp:
        for n in range(args.repeat):
            rnd: dict[str, dict[str, float]] = {}
            for tool in ("packer", "imagesmith"):
                rnd[tool], _, _ = build_once(tool, Path(tmp) / f"{tool}-{n}")
                shutil.rmtree(Path(tmp) / f"{tool}-{n}", ignore_errors=True)
                print(f"round {n + 1} {tool}: " + ", ".join(f"{k}={v:.2f}" for k, v in rnd[tool].items()))
            rounds.append(rnd)
    load_after = os.getloadavg()
    table = _table(rounds)
    print("\n".join(table))
    p_ovh = statistics.median(r["packer"]["overhead"] for r in rounds)
    i_ovh = statistics.median(r["imagesmith"]["overhead"] for r in rounds)
    slower = [
        k
        for k in [*PHASES, "keys_delivered"]
        if _median(rounds, "imagesmith", k) > SLACK * _median(rounds, "packer", k) + 0.02
    ]
    nominal = [
        f"{k} +{(_median(rounds, 'imagesmith', k) - _median(rounds, 'packer', k)) * 1000:.0f} ms"
        for k in [*PHASES, "keys_delivered"]
        if k not in slower and _median(rounds, "imagesmith", k) - _median(rounds, "packer", k) >= 0.005
    ]
    verdict = (
        f"Goal (overhead < 1/3 of Packer's): {'met' if i_ovh < p_ovh / 3 else 'NOT met'} "
        f"({i_ovh:.2f} s vs {p_ovh:.2f} s, ratio {i_ovh / p_ovh:.2f}). "
        f"Phases where imagesmith is slower (median, beyond 5 % + 20 ms): {', '.join(slower) or 'none'}; "
        f"slower within that noise margin: {', '.join(nominal) or 'none'}."
    )
    print(verdict)
    if not args.no_write:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        header = (
            f"`python bench/qemu_iso.py --repeat {args.repeat}` on {when}, "
            f"{os.cpu_count()} cores, TCG, template tests/guest/packer-qemu.json (scp, boot_key_interval 10ms); "
            f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after. Phases from each tool's UI "
            "lines timestamped on arrival; guest = boot_wait + (Enter echoed on the serial console -> `up: ssh on`) "
            '+ ("Gracefully halting" -> `reboot: Power down`); overhead = wall - guest.'
        )
        _write_results(header + "\n\n" + "\n".join(table) + "\n\n" + verdict)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

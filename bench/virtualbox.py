"""virtualbox-iso on the VBoxManage STAND-IN (qemu mode): Packer 1.6.6 vs imagesmith, phase by phase.

VirtualBox cannot run here: both tools drive tests/standins/virtualbox/VBoxManage, which runs the
test guest under QEMU (TCG). Each round builds the same template (the test guest's ISO, kickstart
over HTTP, a shell provisioner, shutdown_command, export, vagrant box) with `packer build`, then
with `python -m imagesmith build`, never together. Every output line is timestamped on arrival;
phases run from one UI line to the next: setup, boot_wait, typing, ssh_wait, provisioning,
shutdown, export, cleanup, vagrant; wall = the process's run time. VBoxManage calls are counted
from the stand-in's log. The guest's serial console (the stand-in's ``VBOX_STANDIN_SERIAL``, a
loopback listener) gives the guest's own time, as bench/qemu_iso.py measures it: boot_wait + (the
typed `boot:` line -> `up: ssh on`) + ("Gracefully halting" -> `reboot: Power down`); overhead =
wall - guest, the issue's measure (goal: imagesmith's under a third of Packer's). Results go to
stdout and under `## virtualbox` in bench/RESULTS.md.

    python bench/virtualbox.py [--repeat N] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from qemu_iso import Lines, _serial_listener  # noqa: E402

STANDIN = ROOT / "tests" / "standins" / "virtualbox"
ISO = Path("/var/cache/imagesmith/test-guest/test-guest.iso")
RESULTS = ROOT / "bench" / "RESULTS.md"
PHASES = ["setup", "boot_wait", "typing", "ssh_wait", "provisioning", "shutdown", "export", "cleanup", "vagrant"]
MARKS = [
    ("boot_wait", "for boot\\.\\.\\."),
    ("typing", "Typing the boot command"),
    ("ssh_wait", "Waiting for SSH to become available"),
    ("provisioning", "Connected to SSH!"),
    ("shutdown", "Gracefully halting virtual machine"),
    ("export", "Preparing to export machine"),
    ("cleanup", "Deregistering and deleting VM"),
    ("vagrant", "Running post-processor: vagrant"),
    ("end", "finished after"),
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def template(port: int) -> dict[str, object]:
    return {
        "builders": [{
            "type": "virtualbox-iso", "guest_os_type": "RedHat_64", "headless": True, "disk_size": 512,
            "memory": 512, "iso_url": str(ISO), "iso_checksum": f"file:{ISO}.sha256",
            "http_directory": str(ROOT / "tests" / "guest" / "http"), "http_bind_address": "127.0.0.1",
            "http_port_min": port, "http_port_max": port, "boot_wait": "3s",
            "boot_command": ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
            "ssh_username": "root", "ssh_password": "packer", "ssh_timeout": "10m",
            "shutdown_command": "shutdown -h now",
        }],
        "provisioners": [{"type": "shell", "inline": ["echo marked > /root/mark && sync"]}],
        "post-processors": [{"type": "vagrant", "output": "box-{{.Provider}}.box"}],
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_one(tool: str, work: Path, port: int) -> dict[str, float]:
    work.mkdir(parents=True)
    (work / "template.json").write_text(json.dumps(template(port)))
    env = {**os.environ, "PATH": f"{STANDIN}{os.pathsep}{os.environ['PATH']}", "CHECKPOINT_DISABLE": "1",
           "VBOX_STANDIN_HOME": str(work / "vbox-home"), "VBOX_STANDIN_LOG": str(work / "calls.jsonl"),
           "VBOX_STANDIN_MODE": "qemu", "PYTHONUNBUFFERED": "1"}  # fmt: skip
    argv = ["packer", "build", "template.json"] if tool == "packer" else [sys.executable, "-m", "imagesmith", "build",
                                                                         "template.json"]  # fmt: skip
    t0 = time.monotonic()
    lines: list[tuple[float, str]] = []
    serial = Lines(t0)
    serial_port, server = _serial_listener(serial)
    env["VBOX_STANDIN_SERIAL"] = f"tcp:127.0.0.1:{serial_port}"
    with server, subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) as proc:  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic() - t0, ANSI.sub("", line.rstrip())))
        code = proc.wait(timeout=1800)
    wall = time.monotonic() - t0
    if code != 0:
        raise SystemExit(f"{tool} failed:\n" + "\n".join(text for _, text in lines[-30:]))
    times = {**phases(lines, wall), "wall": wall}
    times.update(guest_times(lines, serial, times))
    times["vboxmanage_calls"] = float(len((work / "calls.jsonl").read_text().splitlines()))
    return times


def guest_times(lines: list[tuple[float, str]], serial: Lines, times: dict[str, float]) -> dict[str, float]:
    """The guest's own time from its console, and the tool's overhead (wall - guest)."""
    enter = serial.first(r"boot: .*ks=")
    ssh_up = serial.first(r"\] up: ssh on")
    power_down = serial.last(r"reboot: Power down")
    halting = next((t for t, text in lines if "Gracefully halting" in text), None)
    if enter is None or ssh_up is None or power_down is None or halting is None:
        return {"guest": float("nan"), "overhead": float("nan")}
    guest = times.get("boot_wait", 0.0) + (ssh_up - enter) + (power_down - halting)
    return {"guest_install": ssh_up - enter, "guest_shutdown": power_down - halting, "guest": guest,
            "overhead": times["wall"] - guest}  # fmt: skip


def phases(lines: list[tuple[float, str]], wall: float) -> dict[str, float]:
    starts: dict[str, float] = {"setup": 0.0}
    for name, pattern in MARKS:
        hit = next((t for t, text in lines if re.search(pattern, text)), None)
        if hit is not None:
            starts[name] = hit
    order = [p for p in [*PHASES, "end"] if p in starts]
    result = {p: starts[order[i + 1]] - starts[p] for i, p in enumerate(order[:-1]) if p in PHASES}
    return result


def table(rows: dict[str, list[dict[str, float]]]) -> str:
    keys = [*PHASES, "wall", "guest_install", "guest_shutdown", "guest", "overhead", "vboxmanage_calls"]
    out = ["| phase | Packer 1.6.6 (s) | imagesmith (s) | imagesmith / Packer |", "|---|---|---|---|"]
    for key in keys:
        packer = statistics.median(r.get(key, 0.0) for r in rows["packer"])
        ours = statistics.median(r.get(key, 0.0) for r in rows["imagesmith"])
        ratio = f"{ours / packer:.2f}" if packer else "-"
        out.append(f"| {key} | {packer:.1f} | {ours:.1f} | {ratio} |")
    return "\n".join(out)


def verdict(rows: dict[str, list[dict[str, float]]]) -> str:
    packer = statistics.median(r.get("overhead", float("nan")) for r in rows["packer"])
    ours = statistics.median(r.get("overhead", float("nan")) for r in rows["imagesmith"])
    met = "met" if ours < packer / 3 else "NOT met"
    return f"Goal (imagesmith's overhead under a third of Packer's): {met} ({ours:.1f} s vs {packer:.1f} s)."


def write_results(text: str) -> None:
    current = RESULTS.read_text() if RESULTS.exists() else ""
    section = f"## virtualbox\n\n{text}\n"
    if "## virtualbox\n" in current:
        head, _, rest = current.partition("## virtualbox\n")
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        current = head + section + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not ISO.exists() or shutil.which("packer") is None or shutil.which("qemu-system-x86_64") is None:
        raise SystemExit("needs the test guest ISO, packer and qemu-system-x86_64")
    rows: dict[str, list[dict[str, float]]] = {"packer": [], "imagesmith": []}
    with tempfile.TemporaryDirectory(prefix="bench-vbox-") as tmp:
        for round_ in range(args.repeat):
            port = free_port()
            for tool in ("packer", "imagesmith"):
                rows[tool].append(run_one(tool, Path(tmp) / f"{tool}-{round_}", port))
                print(tool, {k: round(v, 1) for k, v in rows[tool][-1].items()}, flush=True)
    text = (
        f"On the VBoxManage stand-in in qemu mode (TCG; not VirtualBox), {time.strftime('%Y-%m-%d')}, "
        f"{args.repeat} round(s), medians, load average {os.getloadavg()[0]:.1f} at the end. overhead = wall - "
        f"guest (the guest's own time from its serial console).\n\n" + table(rows) + "\n\n" + verdict(rows)
    )
    print(text)
    if not args.no_write:
        write_results(text)


if __name__ == "__main__":
    main()

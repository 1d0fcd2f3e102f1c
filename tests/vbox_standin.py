"""What the virtualbox integration tests share: running a build against the VBoxManage STAND-IN
(tests/standins/virtualbox; VirtualBox cannot run here), reading its call log back normalised, and
finding what a build may have left behind (registered machines, QEMU and stand-in processes)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STANDIN_DIR = ROOT / "tests" / "standins" / "virtualbox"
STANDIN = str(STANDIN_DIR / "VBoxManage")
GUEST_DIR = Path(os.environ.get("IMAGESMITH_TEST_GUEST_DIR", "/var/cache/imagesmith/test-guest"))
ISO = GUEST_DIR / "test-guest.iso"
# Settings for a build that never logs in (record mode: no VM runs).
SILENT = {"headless": True, "communicator": "none", "virtualbox_version_file": "", "boot_wait": "0s"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def standin_env(work: Path, mode: str = "record", **extra: str) -> dict[str, str]:
    """The environment of a build or call in ``work``: the stand-in first on PATH, its home, log and mode."""
    return {
        "PATH": f"{STANDIN_DIR}{os.pathsep}{os.environ['PATH']}",
        "VBOX_STANDIN_HOME": str(work / "vbox-home"),
        "VBOX_STANDIN_LOG": str(work / "calls.jsonl"),
        "VBOX_STANDIN_MODE": mode,
        "VBOX_STANDIN_SERIAL": f"file:{work}/serial.log",
        "CHECKPOINT_DISABLE": "1",
        **extra,
    }


def run_standin(work: Path, *argv: str, log: str = "setup.jsonl") -> str:
    """One stand-in call in ``work``'s VirtualBox home (record mode), logged apart from the build's calls."""
    env = {**os.environ, **standin_env(work), "VBOX_STANDIN_LOG": str(work / log)}
    done = subprocess.run([STANDIN, *argv], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def calls(work: Path) -> list[list[str]]:
    log = work / "calls.jsonl"
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()] if log.exists() else []


def sort_map_order(lines: list[str]) -> list[str]:
    """Runs of calls Packer makes in Go map order (the setextradata block; the ISOs attached or
    detached together) sorted where they stand."""
    out: list[str] = []
    run: list[str] = []
    kind = ""
    for line in [*lines, ""]:
        this = "extradata" if line.startswith("setextradata global") else ("dvd" if "--type dvddrive" in line else "")
        if run and this != kind:
            out += sorted(run)
            run = []
        if this:
            run.append(line)
        else:
            out.append(line)
        kind = this
    return out[:-1]


def normalise(work: Path, *, rename_vm: bool = False) -> list[str]:
    """One line per call: stand-in paths, ports and the floppy's temporary path replaced, the
    setextradata block sorted, consecutive polls collapsed, consecutive scancode calls joined (the
    key grouping normalised); with ``rename_vm`` the generated VM name becomes ``VM``."""
    argvs = calls(work)
    vm = next((a[2] for a in argvs if a[:2] == ["createvm", "--name"]), "VM") if rename_vm else ""
    lines: list[str] = []
    for argv in argvs:
        text = " ".join(argv).replace(str(work / "vbox-home"), "HOME")
        text = text.replace(vm, "VM") if vm else text
        text = re.sub(r"--vrdeport \d+", "--vrdeport PORT", text)
        text = re.sub(r"127\.0\.0\.1,\d+,", "127.0.0.1,PORT,", text)
        text = re.sub(r"--medium \S*/floppy\.\w+", "--medium FLOPPY", text)
        text = re.sub(r"(--port (?:1 --device 1|3 --device 0) --type dvddrive --medium) /\S+", r"\1 CD", text)
        if lines and text == lines[-1] and argv[0] == "showvminfo":
            continue
        if lines and "keyboardputscancode" in text and "keyboardputscancode" in lines[-1]:
            lines[-1] += text.split("keyboardputscancode", 1)[1]
            continue
        lines.append(text)
    return sort_map_order(lines)


def registered(work: Path) -> list[str]:
    machines = work / "vbox-home" / "VirtualBox VMs"
    return sorted(p.name for p in machines.iterdir()) if machines.exists() else []


def _pids_matching(needle: bytes, work: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
            environ = Path(f"/proc/{entry}/environ").read_bytes() if needle == b"VBoxManage" else b""
        except OSError:
            continue
        if needle in cmdline and str(work).encode() in cmdline + environ and state != "Z":
            found.append(int(entry))
    return found


def qemu_pids(work: Path) -> list[int]:
    """QEMU processes the stand-in started for VMs living under ``work`` (not zombies)."""
    return _pids_matching(b"qemu-system", work)


def standin_pids(work: Path) -> list[int]:
    """Stand-in VBoxManage processes still running for ``work`` (its home is in their environment)."""
    return _pids_matching(b"VBoxManage", work)


def kill_leftovers(work: Path) -> None:
    """After a failed assertion: stop what the stand-in started for ``work`` (never another's)."""
    for pid in qemu_pids(work) + standin_pids(work):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def interrupt_build(
    work: Path, env: dict[str, str], ready: Callable[[str], bool], before: Callable[[], None] = lambda: None
) -> tuple[int, str, bool]:
    """``imagesmith build template.json`` in ``work``, sent SIGINT (as Ctrl-C does) once ``ready(output)``.

    Returns the exit code, the whole output and whether the signal was sent while the build ran.
    ``before`` runs just before the signal (to look at what runs then)."""
    proc = subprocess.Popen([sys.executable, "-m", "imagesmith", "build", "template.json"], cwd=work,
                            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(proc.stdout or ()), daemon=True)
    reader.start()
    sent = False
    try:
        deadline = time.monotonic() + 900
        while proc.poll() is None and time.monotonic() < deadline and not ready("".join(seen)):
            time.sleep(0.2)
        if proc.poll() is None and ready("".join(seen)):
            before()
            proc.send_signal(signal.SIGINT)
            sent = True
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=60)
    return proc.returncode, "".join(seen), sent

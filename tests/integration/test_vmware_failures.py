"""vmware-iso failures and Ctrl-C against the VMware stand-in (record mode: nothing boots).

A failing ``vmrun`` shows the command and its stderr; a failed or interrupted build stops the VM
it started, removes the output directory and exits non-zero. Stand-in only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from tests.integration.vmware_support import (
    NAMESPACE,
    TEST_ISO,
    imagesmith_build,
    require_vmware_standin,
    standin_env,
    vmrun_calls,
)

pytestmark = [pytest.mark.integration]


def write_template(work: Path, **extra: Any) -> None:
    builder = {
        "type": "vmware-iso", "iso_url": str(TEST_ISO), "iso_checksum": "none", "headless": True,
        "disk_size": 64, "boot_wait": "0s", "output_directory": "out", "vm_name": "vm", "disable_vnc": True,
        "communicator": "none", **extra,
    }  # fmt: skip
    (work / "template.json").write_text(json.dumps({"builders": [builder]}))


def running_vms(work: Path) -> list[str]:
    state = work / "standin-state"
    return [p.name for p in state.glob("running-*")] if state.exists() else []


@pytest.fixture
def work(tmp_path: Path) -> Path:
    require_vmware_standin()
    return tmp_path


def test_standin_vmrun_start_failure_shows_command_and_stderr(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_template(work)
    monkeypatch.setenv("VMWARE_STANDIN_FAIL", "start")
    result = imagesmith_build(work, "template.json")
    assert result.returncode != 0
    assert "vmrun start failed:" in result.stdout + result.stderr
    assert "-T player start out/vm.vmx nogui" in result.stdout + result.stderr
    assert "stand-in failure injected" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (work / "out").exists()


def test_standin_missing_vmrun_is_a_clear_error(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_template(work)
    env = {**os.environ, **standin_env(work), "PATH": "/usr/bin:/bin"}
    argv = [str(NAMESPACE), sys.executable, "-m", "imagesmith", "build", "template.json"]
    result = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "'vmrun' was not found on PATH" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_standin_ctrl_c_while_waiting_for_ssh_stops_the_vm_and_removes_output(work: Path) -> None:
    # The stand-in leases 127.0.0.1 to the VM; nothing listens on port 22 in the private network.
    write_template(work, communicator="ssh", ssh_username="root", ssh_password="x", ssh_timeout="5m")
    env = {**os.environ, **standin_env(work)}
    argv = [str(NAMESPACE), sys.executable, "-m", "imagesmith", "build", "template.json"]
    proc = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if "Waiting for SSH" in line or time.monotonic() > deadline:
            break
    assert any("Waiting for SSH" in line for line in seen), "".join(seen)
    assert running_vms(work), "the stand-in VM should be running"
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0
    verbs = [argv[2] for argv in vmrun_calls(work)]
    assert verbs[0] == "start" and "stop" in verbs, verbs
    assert running_vms(work) == []
    assert not (work / "out").exists(), "".join(seen) + rest


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention ``text`` (e.g. a test's work directory)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().split()[2]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{proc.name}: {cmdline}")
    return found


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_standin_qemu_ctrl_c_while_typing_stops_and_deletes_everything(work: Path) -> None:
    """qemu mode: Ctrl-C while the boot command is being typed over VNC stops the VM (qemu and the
    stand-in's VNC front end exit, so their ports are released), deletes the output directory and
    the temporary floppy, and exits non-zero without a traceback."""
    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    (work / "floppy.cfg").write_text("x\n")
    (work / "tmp").mkdir()
    write_template(work, disable_vnc=False, boot_wait="1s", floppy_files=["floppy.cfg"],
                   boot_command=["abc<wait10m>def"])  # fmt: skip
    env = {**os.environ, **standin_env(work, "qemu"), "TMPDIR": str(work / "tmp")}
    argv = [str(NAMESPACE), sys.executable, "-m", "imagesmith", "build", "template.json"]
    proc = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 600
    for line in proc.stdout:
        seen.append(line)
        if "Typing the boot command over VNC" in line or time.monotonic() > deadline:
            break
    assert any("Typing the boot command over VNC" in line for line in seen), "".join(seen)
    entries = [json.loads(p.read_text()) for p in (work / "standin-state").glob("running-*")]
    pids = [pid for entry in entries for pid in (entry["pid"], entry["vnc"])]
    assert len(pids) == 2 and all(pids), entries  # qemu and the stand-in's VNC front end
    assert len(processes_mentioning(str(work / "standin-state"))) == 1  # vnc-recorder names its key log
    keys = work / "standin-state" / "keys-vm.jsonl"
    for _ in range(600):  # "abc" typed before the long wait: the recorder saw it
        if keys.exists() and len(keys.read_text().splitlines()) >= 6:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=300)
    output = "".join(seen) + rest
    assert proc.returncode != 0, output
    assert "Traceback" not in output
    assert [json.loads(line)["keysym"] for line in keys.read_text().splitlines()][:6] == [97, 97, 98, 98, 99, 99]
    verbs = [argv[2] for argv in vmrun_calls(work)]
    assert verbs[0] == "start" and "stop" in verbs, verbs
    assert running_vms(work) == []
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists() and not zombie(pid)] == []
    assert processes_mentioning(str(work / "standin-state")) == []
    assert not list(Path("/tmp").glob(f"vmware-standin-*-{entries[0]['qmp'][-21:-5]}.sock"))
    assert not (work / "out").exists(), output
    assert list((work / "tmp").iterdir()) == [], "the temporary floppy was left behind"

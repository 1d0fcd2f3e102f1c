"""Running Packer 1.6.6 and imagesmith against the VMware stand-ins (tests/standins/vmware).

Both run inside tests/standins/vmware/in-private-vmware-ns: a private mount and network namespace
where /etc/vmware exists (netmap, vmnet8 DHCP files) and only loopback is up. The stand-in
``vmrun`` records every call as JSON lines; :func:`vmrun_calls` reads them back normalised.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool
from tests.packer_oracle import run_packer

ROOT = Path(__file__).resolve().parents[2]
STANDINS = ROOT / "tests" / "standins" / "vmware"
NAMESPACE = STANDINS / "in-private-vmware-ns"
TEST_ISO = Path("/var/cache/imagesmith/test-guest/test-guest.iso")


def namespaces_work() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run([str(NAMESPACE), "true"], capture_output=True).returncode == 0


def require_vmware_standin() -> None:
    """Skip (fail under CI) unless the stand-in can run: root, namespaces, qemu-img, the test guest ISO."""
    require_tool(namespaces_work(), "the VMware stand-in needs root and `unshare -m -n` (private /etc/vmware)")
    require_tool(
        shutil.which("qemu-img") is not None, "the VMware stand-in needs qemu-img (apt-get install qemu-utils)"
    )


def standin_env(work: Path, mode: str = "record") -> dict[str, str]:
    """The environment of one tool's run: stand-ins first on PATH, their log and state in ``work``."""
    return {
        "PATH": f"{STANDINS}:{os.environ['PATH']}",
        "VMWARE_STANDIN_LOG": str(work / "vmrun.jsonl"),
        "VMWARE_STANDIN_STATE": str(work / "standin-state"),
        "VMWARE_STANDIN_MODE": mode,
        "CHECKPOINT_DISABLE": "1",
    }


def packer_build(
    work: Path, template: str, mode: str = "record", timeout: float = 600, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``packer build`` in the private namespace (through a ``packer`` wrapper first on PATH);
    ``env_extra`` is added to (or replaces, for PATH) the stand-ins' environment."""
    wrapper = work / "wrapper-bin"
    wrapper.mkdir(exist_ok=True)
    script = wrapper / "packer"
    script.write_text(f'#!/bin/sh\nexec "{NAMESPACE}" "{shutil.which("packer")}" "$@"\n')
    script.chmod(0o755)
    env = {**standin_env(work, mode), **(env_extra or {})}
    env["PATH"] = f"{wrapper}:{env['PATH']}"
    return run_packer("build", template, cwd=work, env=env, timeout=timeout)


def imagesmith_build(work: Path, template: str, mode: str = "record", timeout: float = 600,
                     extra: tuple[str, ...] = (), env_extra: dict[str, str] | None = None,
                     ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``imagesmith build`` in the private namespace; interrupted with SIGINT (so it stops its VM)
    if the test gives up on it."""
    env = {**os.environ, **standin_env(work, mode), **(env_extra or {})}
    argv = [str(NAMESPACE), sys.executable, "-m", "imagesmith", "build", *extra, template]
    proc = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        proc.send_signal(signal.SIGINT)  # the namespace wrapper execs imagesmith: same pid
        try:
            proc.communicate(timeout=120)
        finally:
            proc.kill()
            proc.wait()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def vmrun_calls(work: Path) -> list[list[str]]:
    """The stand-in ``vmrun`` calls, with the stand-ins' own directory removed from paths."""
    log = work / "vmrun.jsonl"
    if not log.exists():
        return []
    return [json.loads(line)["argv"] for line in log.read_text().splitlines() if line.strip()]


def start_snapshots(work: Path) -> dict[str, str]:
    """``.vmx`` file name → its text as it was at ``vmrun start``."""
    return {p.name.removeprefix("start-"): p.read_text() for p in (work / "standin-state").glob("start-*.vmx")}


def ovftool_calls(work: Path) -> list[list[str]]:
    """The stand-in ``ovftool`` calls (its log sits next to vmrun's)."""
    log = work / "ovftool.jsonl"
    if not log.exists():
        return []
    return [json.loads(line)["argv"] for line in log.read_text().splitlines() if line.strip()]


def path_without(work: Path, *tools: str) -> str:
    """A PATH with the stand-ins except ``tools`` (symlinks in ``work/partial-standins``)."""
    partial = work / "partial-standins"
    partial.mkdir(exist_ok=True)
    for tool in STANDINS.iterdir():
        if tool.name not in tools and tool.name != NAMESPACE.name and not (partial / tool.name).exists():
            (partial / tool.name).symlink_to(tool)
    return f"{partial}:{os.environ['PATH']}"

"""Ctrl-C (SIGINT) to `imagesmith build` of the test guest, in several phases: no qemu process,
listening port, temporary file or output directory survives."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_qemu_build import ISO, _listening, _qemu_pids, _run_dirs

pytestmark = pytest.mark.integration
TEMPLATE = Path(__file__).resolve().parents[1] / "guest" / "packer-qemu.json"


# Each phase long enough for the signal to land in it: boot_wait (3 s), typing (2 s, one <wait>), waiting for
# SSH (seconds), provisioning (the first of five provisioners; shutdown and export follow).
PHASES = ["for boot...", "Typing the boot command", "Waiting for SSH to become available", "Provisioning with shell"]


@pytest.mark.parametrize("phase", PHASES)
def test_sigint_cleans_everything(need_qemu: None, tmp_path: Path, phase: str) -> None:
    from tests.conftest import require_tool

    require_tool(ISO.exists(), f"needs the test guest ISO {ISO}")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagesmith", "build", "-var", f"output_directory={out}", "-var",
         f"download_dir={tmp_path}", str(TEMPLATE)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        lines.append(line)
        if phase in line or time.monotonic() > deadline:
            break
    text = "".join(lines)
    assert phase in text, text
    ports = [int(p) for p in re.findall(r"(?:HTTP server on port|VNC port:) (\d+)", text)]
    pids = _qemu_pids(str(out))
    assert pids, text
    run_dirs = _run_dirs(pids)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    text += rest
    assert proc.returncode != 0, text
    assert _qemu_pids(str(out)) == [], text
    assert not out.exists(), text
    assert not any(_listening(p) for p in ports), text
    assert run_dirs and not any(os.path.exists(d) for d in run_dirs), text

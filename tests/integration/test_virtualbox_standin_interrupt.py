"""Ctrl-C at each phase of a virtualbox-iso build against the VBoxManage STAND-IN (record mode: no VM
runs; VirtualBox cannot run here). The stand-in is told to stall in one call (VBOX_STANDIN_DELAY) after
doing its work, as a slow disk creation, start, key press, power-off or export would; the test then
presses Ctrl-C (SIGINT). Whatever the phase, the VM must end unregistered and deleted, its disk gone,
no stand-in call still running and no (partial) output directory left.

The phases where the VM runs under QEMU (typing, waiting for SSH) are covered with the qemu-mode
stand-in in test_virtualbox_standin_build.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.vbox_standin import (
    ISO,
    SILENT,
    calls,
    interrupt_build,
    kill_leftovers,
    registered,
    standin_env,
    standin_pids,
)

pytestmark = pytest.mark.integration
OUTPUT = "output-virtualbox-iso"

# (the call that stalls, what must exist when Ctrl-C comes)
PHASES = {
    "createhd": "the new disk",
    "startvm": "the started VM",
    "keyboardputscancode": "the typed keys",
    "poweroff": "the VM being halted",
    "export": "the partial export",
}


def write_template(work: Path) -> None:
    builder = {
        "type": "virtualbox-iso", "guest_os_type": "RedHat_64", "disk_size": 64, "iso_url": str(ISO),
        "iso_checksum": "none", "guest_additions_mode": "disable", "boot_command": ["a<enter>"], **SILENT,
    }  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    (work / "template.json").write_text(json.dumps({"builders": [builder]}))


@pytest.mark.parametrize("stall", list(PHASES))
def test_stand_in_ctrl_c_at_each_phase_leaves_nothing(tmp_path: Path, stall: str) -> None:
    require_tool(shutil.which("qemu-img") is not None, "the stand-in's createhd needs qemu-img")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    write_template(tmp_path)
    marker = tmp_path / "vbox-home" / f"delayed-{stall}"
    seen: dict[str, object] = {}

    def look() -> None:  # what the stalled call left, just before Ctrl-C
        seen["registered"] = registered(tmp_path)
        seen["output"] = sorted(p.suffix for p in (tmp_path / OUTPUT).iterdir()) if (tmp_path / OUTPUT).exists() else []

    env = standin_env(tmp_path, VBOX_STANDIN_DELAY=f"{stall}:120")
    try:
        code, out, sent = interrupt_build(tmp_path, env, lambda _: marker.exists(), look)
        leftovers = standin_pids(tmp_path)
    finally:
        kill_leftovers(tmp_path)
    assert sent, f"the build never reached {PHASES[stall]}:\n{out}"
    assert seen["registered"] != [], out
    if stall == "export":
        assert ".ovf" in seen["output"], seen  # a half-written export, then Ctrl-C
    assert code != 0, out
    assert "Deregistering and deleting VM" in out, out
    assert registered(tmp_path) == [], out
    assert calls(tmp_path)[-1][:1] == ["unregistervm"], calls(tmp_path)[-3:]
    assert not (tmp_path / OUTPUT).exists(), out
    assert leftovers == [], out
    assert "Traceback" not in out

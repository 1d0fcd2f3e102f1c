"""The compat tier passes when Packer 1.6.6 crashes by itself: CI's second pass over it.

Packer 1.6.6 sometimes panics on its own (``PACKER CRASH``). This test runs the compat tier again in
a nested pytest, with tests/standins/crashing-packer first on PATH: a ``packer`` that crashes like
Packer on the FIRST call of every distinct command line and runs the real Packer after. Every live
Packer call goes through tests/packer_oracle.py, which retries a crashed call once, so the nested run
must pass -- and must have met (and reported) the crashes.

To keep its time in check, the nested run leaves out what never calls Packer and costs the most:
the comparison of imagesmith with the recorded fixture answers (test_fixtures_vs_packer's
test_case_agrees_with_recorded_packer and test_agreement_count; the first pass runs them), and runs
the differential fuzz tests with 10 examples each instead of 40. Every test that calls Packer runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.packer_oracle import RECORD_ENV

pytestmark = [pytest.mark.compat, pytest.mark.integration, pytest.mark.slow]

WRAPPER = ROOT / "tests" / "standins" / "crashing-packer"
NESTED = "IMAGESMITH_NESTED_CRASHING_PACKER"  # set in the nested run, so it does not start another
#: tests that never call Packer and take most of the compat tier's time (see the module doc)
NOT_NESTED = ["test_case_agrees_with_recorded_packer", "test_agreement_count"]


def _real_packer() -> str:
    """The real packer (in the nested run, ``packer`` on PATH is the crashing one)."""
    real = os.environ.get("IMAGESMITH_REAL_PACKER") or shutil.which("packer")
    assert real is not None
    return real


@pytest.mark.timeout(1800)
def test_compat_tier_passes_when_packer_crashes_on_every_first_call(need_packer: None, tmp_path: Path) -> None:
    if os.environ.get(NESTED):
        pytest.skip("this is the nested run under the crashing packer; it does not nest again")
    if os.environ.get(RECORD_ENV) == "1":
        pytest.skip("recording Packer's answers (tests/compat/record_packer.py): the crash pass is not a recording")
    real = _real_packer()
    state = tmp_path / "crashed"
    state.mkdir()
    env = {
        **os.environ,
        "PATH": f"{WRAPPER}{os.pathsep}{os.environ.get('PATH', '')}",
        "IMAGESMITH_CRASHING_PACKER_STATE": str(state),
        "IMAGESMITH_REAL_PACKER": real,
        NESTED: "1",
    }
    env["IMAGESMITH_FUZZ_EXAMPLES"] = "10"
    argv = [sys.executable, "-m", "pytest", "tests/compat", "-q", "-p", "no:cacheprovider", "-W", "default"]
    argv += [f"--deselect=tests/compat/test_fixtures_vs_packer.py::{name}" for name in NOT_NESTED]
    start = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1700, check=False)
    took = time.monotonic() - start
    output = done.stdout + done.stderr
    summary = output[output.find("= FAILURES =") :][:6000] + output[output.rfind("short test summary") :]
    assert done.returncode == 0, f"the compat tier failed under the crashing packer:\n{summary}"
    crashed = sorted(state.iterdir())
    print(f"\ncompat tier under the crashing packer: passed in {took:.0f} s, {len(crashed)} command lines crashed once")
    assert len(crashed) >= 50, f"the crashing packer was hardly called ({len(crashed)}):\n{output[-3000:]}"
    assert "PackerCrashWarning" in output and "running it once more" in output, output[-3000:]


def test_crashing_packer_crashes_once_per_command_line(need_packer: None, tmp_path: Path) -> None:
    """The fixture itself: a Go-panic-like crash (exit 2) on the first call of a command line only."""
    real = _real_packer()
    env = {**os.environ, "IMAGESMITH_CRASHING_PACKER_STATE": str(tmp_path), "IMAGESMITH_REAL_PACKER": real}
    env["CHECKPOINT_DISABLE"] = "1"

    def packer(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(WRAPPER / "packer"), *args], capture_output=True, text=True, env=env, timeout=300)

    first, second, other = packer("version"), packer("version"), packer("-machine-readable", "version")
    assert first.returncode == 2 and "PACKER CRASH" in first.stderr and first.stderr.startswith("panic: ")
    assert second.returncode == 0 and "Packer v1.6.6" in second.stdout
    assert other.returncode == 2 and "PACKER CRASH" in other.stderr

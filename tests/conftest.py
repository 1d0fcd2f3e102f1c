"""Shared test helpers: tool detection that fails instead of skipping under CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packer_oracle import run_packer

__all__ = ["FIXTURES", "IN_CI", "ROOT", "require_tool", "run_cli", "run_packer"]

ROOT = Path(__file__).resolve().parents[1]

# `imagesmith build` caches provisioner layers by default (docs/layers.md); tests compare its
# output with Packer's and count what builds leave behind, so they opt in where they test it.
os.environ.setdefault("IMAGESMITH_CACHE", "off")


def _find_packer_fixtures() -> Path:
    """Packer 1.6.6's own fixtures: $IMAGESMITH_PACKER_FIXTURES, else the shared copy beside the
    checkout (../shared/fixtures), else the copy vendored in tests/fixtures (same files, MPL-2.0)."""
    candidates = [os.environ.get("IMAGESMITH_PACKER_FIXTURES", "")]
    candidates += [
        str(ROOT.parent / "shared" / "fixtures" / "packer-1.6.6"),
        str(ROOT / "tests" / "fixtures" / "packer-1.6.6"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "template").is_dir():
            return Path(candidate).resolve()
    raise RuntimeError("Packer 1.6.6 fixtures not found (tests/fixtures/packer-1.6.6 is missing)")


FIXTURES = _find_packer_fixtures()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(ok: bool, why: str) -> None:
    """Skip with ``why`` when a tool is missing, but fail under CI (CI=true) so a missing
    install step can never pass as green."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {why}")
    pytest.skip(why)


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def packer_available() -> bool:
    return shutil.which("packer") is not None


@pytest.fixture
def need_docker() -> None:
    require_tool(docker_available(), "needs a running Docker daemon (scripts/setup.sh starts one)")


@pytest.fixture
def need_packer() -> None:
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")


@pytest.fixture
def need_qemu() -> None:
    require_tool(
        shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
    )


def run_cli(
    *args: str,
    stdin: str | None = None,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``imagesmith`` as a user would, in a subprocess."""
    full_env = {**os.environ, "CHECKPOINT_DISABLE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "imagesmith", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )

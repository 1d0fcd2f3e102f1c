"""Fault injection into real qemu builds of the test guest: output_directory missing, read-only or
full, qemu-img or qemu-system-x86_64 missing or failing, a guest that never answers SSH. Each run
must exit non-zero with a message naming the cause, print no traceback, and leave nothing behind
(no qemu process, listening port, temp dir or output directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.leftovers import (
    path_with,
    path_without,
    real_tool,
    run_build,
    tmpfs_setup,
    wrapper_dir,
)
from tests.integration.test_qemu_build import ISO

pytestmark = pytest.mark.integration


@pytest.fixture
def guest_iso(need_qemu: None) -> Path:
    from tests.conftest import require_tool

    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest.sh)")
    return ISO


def write_template(tmp_path: Path, output: Path, **overrides: Any) -> str:
    builder = {
        "type": "qemu",
        "iso_url": str(ISO),
        "iso_checksum": f"file:{ISO}.sha256",
        "output_directory": str(output),
        "disk_size": "64M",
        "accelerator": "tcg",
        "headless": True,
        "memory": 256,
        "boot_wait": "0s",
        "communicator": "ssh",
        "ssh_username": "root",
        "ssh_password": "packer",
        "ssh_timeout": "8s",
        "shutdown_command": "shutdown -h now",
        **overrides,
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"builders": [builder]}))
    return str(path)


def test_output_directory_under_proc(guest_iso: Path, tmp_path: Path) -> None:
    out = Path("/proc/imagesmith-out")
    run = run_build([write_template(tmp_path, out)], tmp_path)
    run.assert_failed_with(f"cannot create output_directory {out}: No such file or directory")
    run.assert_clean()


def test_output_directory_read_only(guest_iso: Path, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    run = run_build([write_template(tmp_path, mount / "out")], tmp_path, setup=tmpfs_setup(mount, read_only=True))
    run.assert_failed_with(f"cannot create output_directory {mount}/out: Read-only file system")
    run.assert_clean()


def test_output_directory_full(guest_iso: Path, tmp_path: Path) -> None:
    mount = tmp_path / "full"
    after = f'echo "left on the tmpfs: [$(ls -A {mount})]"'
    template = write_template(tmp_path, mount / "out", disk_size="4G")
    run = run_build([template], tmp_path, setup=tmpfs_setup(mount, size="4k"), after=after)
    run.assert_failed_with("qemu-img", "left on the tmpfs: []")
    run.assert_clean(absent=[mount / "out"])


def test_qemu_img_exits_non_zero(guest_iso: Path, tmp_path: Path) -> None:
    script = 'echo "qemu-img: simulated failure" >&2; exit 1'
    env = {"PATH": path_with(wrapper_dir(tmp_path, {"qemu-img": script}))}
    out = tmp_path / "out"
    run = run_build([write_template(tmp_path, out)], tmp_path, env=env)
    run.assert_failed_with("qemu-img", "simulated failure")
    run.assert_clean(absent=[out])


def test_qemu_system_missing_from_path(guest_iso: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {"PATH": path_without(tmp_path, "qemu-system-x86_64")}
    run = run_build([write_template(tmp_path, out)], tmp_path, env=env)
    run.assert_failed_with("qemu-system-x86_64")
    run.assert_clean(absent=[out])


def test_qemu_system_exits_non_zero(guest_iso: Path, tmp_path: Path) -> None:
    real_tool("qemu-system-x86_64")
    script = 'echo "qemu-system-x86_64: simulated failure" >&2; exit 1'
    env = {"PATH": path_with(wrapper_dir(tmp_path, {"qemu-system-x86_64": script}))}
    out = tmp_path / "out"
    run = run_build([write_template(tmp_path, out)], tmp_path, env=env)
    run.assert_failed_with("Error launching VM", "simulated failure")
    run.assert_clean(absent=[out])


def test_guest_never_answers_ssh(guest_iso: Path, tmp_path: Path) -> None:
    """No boot command: the guest waits at its boot prompt and never starts sshd."""
    out = tmp_path / "out"
    run = run_build([write_template(tmp_path, out)], tmp_path, timeout=180)
    run.assert_failed_with("Timeout waiting for SSH")
    run.assert_clean(absent=[out])

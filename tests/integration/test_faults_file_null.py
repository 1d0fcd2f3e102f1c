"""Fault injection into real builds of the file and null builders: a target that is missing,
read-only or full, a shell-local tool that is missing or fails, a host that never answers SSH.
Each run must exit non-zero with a message naming the cause, print no traceback, and leave
nothing behind (no process, no temp file, no partial output)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.leftovers import run_build, tmpfs_setup

pytestmark = pytest.mark.integration


def write_template(tmp_path: Path, builder: dict[str, Any], provisioners: list[dict[str, Any]] | None = None) -> str:
    raw: dict[str, Any] = {"builders": [builder]}
    if provisioners:
        raw["provisioners"] = provisioners
    path = tmp_path / "template.json"
    path.write_text(json.dumps(raw))
    return str(path)


def big_source(tmp_path: Path) -> Path:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(2 << 20))
    return source


def test_file_target_under_proc(tmp_path: Path) -> None:
    target = "/proc/imagesmith-no-such-dir/out.txt"
    run = run_build([write_template(tmp_path, {"type": "file", "content": "x", "target": target})], tmp_path)
    run.assert_failed_with("cannot create the directory of target /proc/imagesmith-no-such-dir: No such file")
    run.assert_clean(absent=[target])


def test_file_target_read_only(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    builder = {"type": "file", "content": "x", "target": str(mount / "out.txt")}
    run = run_build([write_template(tmp_path, builder)], tmp_path, setup=tmpfs_setup(mount, read_only=True))
    run.assert_failed_with(f"cannot write target {mount}/out.txt: Read-only file system")
    run.assert_clean()


def test_file_target_full_leaves_no_partial_file(tmp_path: Path) -> None:
    mount = tmp_path / "full"
    builder = {"type": "file", "source": str(big_source(tmp_path)), "target": str(mount / "out.bin")}
    after = f'echo "left on the tmpfs: [$(ls -A {mount})]"'
    run = run_build([write_template(tmp_path, builder)], tmp_path, setup=tmpfs_setup(mount), after=after)
    run.assert_failed_with(f"cannot write target {mount}/out.bin: No space left on device", "left on the tmpfs: []")
    run.assert_clean()


def test_file_source_missing(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    builder = {"type": "file", "source": str(tmp_path / "nope.bin"), "target": str(target)}
    run = run_build([write_template(tmp_path, builder)], tmp_path)
    run.assert_failed_with(f"cannot read source {tmp_path}/nope.bin: No such file or directory")
    run.assert_clean(absent=[target])


def test_shell_local_tool_missing(tmp_path: Path) -> None:
    provisioner = {"type": "shell-local", "inline": ["true"], "execute_command": ["/nonexistent/bash", "{{.Script}}"]}
    builder = {"type": "null", "communicator": "none"}
    run = run_build([write_template(tmp_path, builder, [provisioner])], tmp_path)
    run.assert_failed_with("/nonexistent/bash", "No such file or directory")
    run.assert_clean()


def test_shell_local_command_fails(tmp_path: Path) -> None:
    """The script fails and leaves a background job behind: imagesmith stops it and waits for it."""
    provisioner = {"type": "shell-local", "inline": ["sleep 300 >/dev/null 2>&1 &", "echo doomed >&2", "exit 3"]}
    builder = {"type": "null", "communicator": "none"}
    run = run_build([write_template(tmp_path, builder, [provisioner])], tmp_path)
    run.assert_failed_with("doomed", "non-zero exit status: 3")
    run.assert_clean()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) but never says anything."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


def test_ssh_never_answers(tmp_path: Path, silent_port: int) -> None:
    builder = {
        "type": "null",
        "ssh_host": "127.0.0.1",
        "ssh_port": silent_port,
        "ssh_username": "nobody",
        "ssh_password": "secret-password",
        "ssh_timeout": "4s",
        "ssh_handshake_attempts": 2,
    }
    provisioner = {"type": "shell", "inline": ["true"]}
    run = run_build([write_template(tmp_path, builder, [provisioner])], tmp_path, timeout=120)
    run.assert_failed_with("Timeout waiting for SSH")
    assert "secret-password" not in run.output
    run.assert_clean()

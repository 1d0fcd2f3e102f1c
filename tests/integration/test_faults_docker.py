"""Fault injection into real docker builds: the output path missing, read-only or full, docker
missing or failing mid-build, the daemon unreachable or hanging up. Each run must exit non-zero
with a message naming the cause, print no traceback, and leave nothing behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.docker_proxy import DockerProxy
from tests.integration.docker_support import BASE_IMAGE
from tests.integration.leftovers import (
    path_without,
    run_build,
    tmpfs_setup,
)

pytestmark = pytest.mark.integration


def write_template(tmp_path: Path, **builder: Any) -> str:
    raw = {
        "builders": [{"type": "docker", "image": BASE_IMAGE, "pull": False, **builder}],
        "provisioners": [{"type": "shell", "inline": ["echo provisioned > /tmp/marker"]}],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(raw))
    return str(path)


def test_export_path_in_missing_directory(need_docker: None, tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "image.tar"
    run = run_build([write_template(tmp_path, export_path=str(target))], tmp_path)
    run.assert_failed_with(
        f"cannot write export_path {target}: No such file or directory",
        "Some builds didn't complete successfully",
    )
    run.assert_clean(absent=[target])


def test_export_path_read_only(need_docker: None, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    target = mount / "image.tar"
    setup = tmpfs_setup(mount, read_only=True)
    run = run_build([write_template(tmp_path, export_path=str(target))], tmp_path, setup=setup)
    run.assert_failed_with(f"cannot write export_path {target}: Read-only file system")
    run.assert_clean()


def test_export_path_full_leaves_no_partial_file(need_docker: None, tmp_path: Path) -> None:
    mount = tmp_path / "full"
    target = mount / "image.tar"
    setup = tmpfs_setup(mount, size="256k")
    after = f'echo "left on the tmpfs: [$(ls -A {mount})]"'
    run = run_build([write_template(tmp_path, export_path=str(target))], tmp_path, setup=setup, after=after)
    run.assert_failed_with(f"cannot write export_path {target}: No space left on device", "left on the tmpfs: []")
    run.assert_clean()


def test_docker_cli_missing_when_run_command_needs_it(need_docker: None, tmp_path: Path) -> None:
    """The Engine API needs no CLI, but a ``run_command`` flag the API request does not cover (``--ipc``)
    is handed to ``docker run``: with no docker on PATH that fails, naming the program."""
    env = {"PATH": path_without(tmp_path, "docker")}
    run_command = ["-d", "-i", "-t", "--ipc", "private", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
    run = run_build([write_template(tmp_path, commit=True, run_command=run_command)], tmp_path, env=env)
    run.assert_failed_with("docker", "could not be started")
    run.assert_clean()


def test_builds_without_the_docker_cli(need_docker: None, tmp_path: Path) -> None:
    env = {"PATH": path_without(tmp_path, "docker")}
    run = run_build([write_template(tmp_path, commit=True)], tmp_path, env=env)
    assert run.returncode == 0, run.output
    image = run.output.split("Imported Docker image: ")[-1].split()[0] if "Imported" in run.output else ""
    assert image.startswith("sha256:"), run.output
    subprocess.run(["docker", "rmi", image], capture_output=True, check=True)
    run.assert_clean()


def test_daemon_refuses_commit(need_docker: None, tmp_path: Path) -> None:
    """A proxy in front of the real daemon answers the commit request with a daemon error."""
    with DockerProxy(tmp_path / "proxy.sock", refuse=b"/commit", error="simulated commit failure") as proxy:
        env = {"DOCKER_HOST": f"unix://{proxy.path}"}
        run = run_build([write_template(tmp_path, commit=True)], tmp_path, env=env)
    assert proxy.refused, run.output
    run.assert_failed_with("docker commit", "simulated commit failure")
    run.assert_clean()


def test_docker_host_socket_missing(need_docker: None, tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    run = run_build([write_template(tmp_path, commit=True)], tmp_path, env=env)
    run.assert_failed_with("no-daemon.sock")
    run.assert_clean()


def test_daemon_hangs_up_mid_build(need_docker: None, tmp_path: Path) -> None:
    """A proxy in front of the real daemon drops the connection of the commit request."""
    with DockerProxy(tmp_path / "proxy.sock", refuse=b"/commit") as proxy:
        env = {"DOCKER_HOST": f"unix://{proxy.path}"}
        run = run_build([write_template(tmp_path, commit=True)], tmp_path, env=env)
    assert proxy.refused, run.output
    run.assert_failed_with("Build 'docker' errored")
    run.assert_clean()

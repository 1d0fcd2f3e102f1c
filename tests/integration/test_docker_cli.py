"""``imagesmith build`` of docker templates end to end: success, failure, -on-error=abort, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import run_cli
from .docker_support import BASE_IMAGE, containers, docker

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)


def write_template(path: Path, inline: list[str], **builder: object) -> Path:
    template = {
        "builders": [{"type": "docker", "image": BASE_IMAGE, "pull": False, "discard": True, **builder}],
        "provisioners": [{"type": "shell", "inline": inline}],
    }
    path.write_text(json.dumps(template))
    return path


def test_example_template_builds(tmp_path: Path) -> None:
    done = run_cli("build", "-machine-readable", str(ROOT / "examples/docker-hello.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        out = docker("run", "--rm", "--network", "none", "imagesmith-example/docker-hello:latest")
        assert b"Built by imagesmith" in out and b"index.html" in out
    finally:
        subprocess.run(["docker", "rmi", "imagesmith-example/docker-hello:latest"], capture_output=True)


def test_failing_provisioner_fails_the_build_and_leaves_no_container(tmp_path: Path) -> None:
    before = containers()
    done = run_cli("build", str(write_template(tmp_path / "t.json", ["exit 3"])), cwd=tmp_path)
    assert done.returncode == 1
    assert "Script exited with non-zero exit status: 3.Allowed exit codes are: [0]" in done.stdout
    assert "Container ID: " in done.stdout
    assert {c for c in containers() - before if c in done.stdout} == set()  # ours is gone (others' may run)


def test_on_error_abort_keeps_the_container_and_says_how_to_remove_it(tmp_path: Path) -> None:
    before = containers()
    template = write_template(tmp_path / "t.json", ["exit 1"])
    done = run_cli("build", "-on-error=abort", str(template), cwd=tmp_path)
    left = {c for c in containers() - before if c in done.stdout}  # not other users' containers
    try:
        assert done.returncode == 1
        assert len(left) == 1
        assert f"docker rm -f {next(iter(left))}" in done.stdout
        assert "&& rm -rf " in done.stdout  # the mounted temp dir is named too
    finally:
        for container in left:
            docker("rm", "-f", container)
        for left_dir in re.findall(r"&& rm -rf (\S+)", done.stdout):
            shutil.rmtree(left_dir, ignore_errors=True)


def test_ctrl_c_leaves_no_container_or_temp_dir(tmp_path: Path) -> None:
    before = containers()
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    template = write_template(tmp_path / "t.json", ["echo started", "sleep 60"])
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_TMP_DIR": str(temp_root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagesmith", "build", str(template)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if "started" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, rest
    assert containers() - before == set()
    assert list(temp_root.iterdir()) == []

"""Failing configuration-management runs: the tool's own error lines are shown, the build fails,
the staging directory is removed (``clean_staging_directory``) and nothing is left behind.

``-on-error=abort`` keeps the failed container so the test can look inside it for the staging
directory; the test removes it afterwards. A second build with the default ``-on-error=cleanup``
checks that no container is left.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import run_cli
from .cm_support import DEBIAN_IMAGE, ensure_image
from .docker_support import containers

pytestmark = [pytest.mark.integration]


@pytest.fixture
def debian_image(need_docker: None) -> str:
    ensure_image()
    return DEBIAN_IMAGE


def write_template(root: Path, block: dict[str, Any]) -> Path:
    template = {
        "builders": [{"type": "docker", "image": DEBIAN_IMAGE, "pull": False, "commit": True}],
        "provisioners": [block],
    }
    path = root / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def check_failure(root: Path, block: dict[str, Any], staging: str, tool_line: str, error: str) -> None:
    template = write_template(root, block)
    before = containers()
    done = run_cli("build", "-on-error=abort", str(template), cwd=root, timeout=600)
    output = done.stdout + done.stderr
    left = {c for c in containers() - before if c in output}  # ours (named in the output), not other users'
    try:
        assert done.returncode == 1, output
        assert "Traceback" not in output
        assert tool_line in output
        assert error in output
        assert len(left) == 1, left
        (container,) = left
        probe = subprocess.run(["docker", "exec", container, "test", "-e", staging], capture_output=True)
        assert probe.returncode == 1, f"{staging} is still in the failed container"
    finally:
        for container in left:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True)
        for left_dir in re.findall(r"&& rm -rf (\S+)", output):  # the mounted temp dir abort keeps
            shutil.rmtree(left_dir, ignore_errors=True)
    before = containers()
    done = run_cli("build", str(template), cwd=root, timeout=600)
    assert done.returncode == 1
    assert "Container ID: " in done.stdout
    assert {c for c in containers() - before if c in done.stdout + done.stderr} == set()  # ours is gone


def test_failing_puppet_run(tmp_path: Path, debian_image: str) -> None:
    (tmp_path / "site.pp").write_text("fail('deliberate puppet failure')\n")
    block = {"type": "puppet-masterless", "manifest_file": "site.pp", "clean_staging_directory": True}
    check_failure(
        tmp_path,
        block,
        "/tmp/packer-puppet-masterless",
        "deliberate puppet failure",
        "Puppet exited with a non-zero exit status: 1",
    )


def test_failing_playbook(tmp_path: Path, debian_image: str) -> None:
    (tmp_path / "play.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: {msg: deliberate playbook failure}\n"
    )
    block = {
        "type": "ansible-local",
        "playbook_file": "play.yml",
        "staging_directory": "/tmp/ansible-stage",
        "clean_staging_directory": True,
        "extra_arguments": ["-e", "ansible_python_interpreter=/usr/bin/python3"],
    }
    check_failure(
        tmp_path,
        block,
        "/tmp/ansible-stage",
        "deliberate playbook failure",
        "Error executing Ansible: Non-zero exit status: 2",
    )

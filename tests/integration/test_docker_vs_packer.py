"""Differential test: the same docker template built by imagesmith and by Packer 1.6.6 gives the same image.

Compared: every path of the image's filesystem (kind, mode, owner, content hash or link target;
timestamps aside) via ``docker export``, and the config set by ``changes`` (Env, Cmd, Entrypoint,
Labels, WorkingDir, User).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ..conftest import run_cli, run_packer
from .docker_support import BASE_IMAGE, image_config, image_listing

pytestmark = [pytest.mark.integration, pytest.mark.compat]


def make_template(root: Path) -> Path:
    files = root / "files"
    (files / "sub" / "deep").mkdir(parents=True)
    (files / "a.txt").write_text("alpha\n")
    (files / "sub" / "run.sh").write_text("#!/bin/sh\necho run\n")
    os.chmod(files / "sub" / "run.sh", 0o750)
    (files / "sub" / "deep" / "empty").write_bytes(b"")
    os.symlink("a.txt", files / "link-to-a")
    os.symlink("/nonexistent", files / "dangling")
    os.chown(files / "a.txt", 4321, 4321)
    script = root / "setup.sh"
    script.write_bytes(b'#!/bin/sh\r\nset -e\r\nmkdir -p /srv/app\r\necho "$GREETING" > /srv/app/greeting\r\n')
    single = root / "single.conf"
    single.write_text("key=value\n")
    os.chmod(single, 0o640)
    template = {
        "builders": [
            {
                "type": "docker",
                "image": BASE_IMAGE,
                "pull": False,
                "commit": True,
                "changes": [
                    "ENV APP_HOME=/srv/app",
                    "WORKDIR /srv/app",
                    "LABEL org.example.name=diff org.example.v=1",
                    'ENTRYPOINT ["/bin/sh", "-c"]',
                    'CMD ["cat greeting"]',
                    "USER daemon",
                ],
            }
        ],
        "provisioners": [
            {
                "type": "shell",
                "inline": [
                    "echo app:x:1500:1500::/home/app:/bin/sh >> /etc/passwd",
                    "mkdir -p /opt/target /var/lib/data",
                ],
            },
            {"type": "shell", "script": str(script), "environment_vars": ['GREETING=it\'s a "test"']},
            {"type": "file", "source": str(files), "destination": "/opt/target"},
            {"type": "file", "source": f"{files}/", "destination": "/var/lib/data"},
            {"type": "file", "source": str(files), "destination": "/opt/fresh"},
            {"type": "file", "source": str(single), "destination": "/etc/"},
            {"type": "file", "source": str(single), "destination": "/srv/app/renamed.conf"},
            # consecutive uploads imagesmith sends as one stream (same directory), then one into
            # what the previous upload created (sent first), then into an existing directory (chown -R)
            {"type": "file", "source": str(files), "destination": "/srv/app/tree"},
            {"type": "file", "source": str(files), "destination": "/srv/app/tree"},
            {"type": "file", "source": str(single), "destination": "/srv/app/tree/files/a.txt"},
            {
                "type": "shell",
                "inline": ["chown -R app /srv/app", "ln -s /srv/app /app", "echo $EXTRA > /extra"],
                "environment_vars": ["EXTRA=x y"],
                "use_env_var_file": True,
            },
        ],
    }
    path = root / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def artifact_id(output: str) -> str:
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) >= 6 and fields[2] == "artifact" and fields[4] == "id":
            return fields[5]
    raise AssertionError(f"no artifact id in:\n{output}")


def test_same_image_as_packer(tmp_path: Path, need_docker: None, need_packer: None) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run(["bash", str(root / "scripts/fixtures/docker-base-image.sh")], check=True)
    template = make_template(tmp_path)
    packer = run_packer("build", "-machine-readable", str(template), cwd=tmp_path, timeout=600)
    assert packer.returncode == 0, packer.stdout + packer.stderr
    ours = run_cli("build", "-machine-readable", str(template), cwd=tmp_path, timeout=600)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    theirs_id, ours_id = artifact_id(packer.stdout), artifact_id(ours.stdout)
    try:
        assert image_config(ours_id) == image_config(theirs_id)
        theirs_files, ours_files = image_listing(theirs_id), image_listing(ours_id)
        assert sorted(ours_files) == sorted(theirs_files)
        differing = {p: (ours_files[p], theirs_files[p]) for p in ours_files if ours_files[p] != theirs_files[p]}
        assert differing == {}
        assert ours_files["opt/target/files/link-to-a"] == ("link", 0o777, 0, 0, "a.txt")
        assert ours_files["srv/app/greeting"][0] == "file"
    finally:
        subprocess.run(["docker", "rmi", theirs_id, ours_id], capture_output=True)

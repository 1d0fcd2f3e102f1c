"""Consecutive file provisioners' uploads sent as one tar stream (docs/differences.md), through the CLI
and the real daemon: what the image holds, where the stream is sent, and a failing held-back upload."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import run_cli
from .docker_support import BASE_IMAGE, containers

pytestmark = [pytest.mark.integration]


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run(["bash", str(root / "scripts/fixtures/docker-base-image.sh")], check=True)


def write_template(tmp_path: Path, provisioners: list[dict[str, Any]]) -> Path:
    builder = {"type": "docker", "image": BASE_IMAGE, "pull": False, "discard": True}
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"builders": [builder], "provisioners": provisioners}))
    return path


def build(tmp_path: Path, provisioners: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    env = {"IMAGESMITH_CACHE": "off", "PACKER_LOG": "1", "PACKER_LOG_PATH": str(tmp_path / "log.txt")}
    return run_cli("build", str(write_template(tmp_path, provisioners)), cwd=tmp_path, env=env, timeout=300)


def api_calls(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "log.txt").read_text().splitlines()
    return [line.split("+ docker API: ", 1)[1] for line in lines if "+ docker API: " in line]


def test_uploads_into_one_directory_go_as_one_stream_and_land_as_with_separate_ones(tmp_path: Path) -> None:
    conf = tmp_path / "app.conf"
    conf.write_text("key=value\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>hi</p>\n")
    before = containers()
    done = build(
        tmp_path,
        [
            {"type": "shell", "inline": ["mkdir -p /srv/app"]},
            {"type": "file", "source": str(conf), "destination": "/srv/app/app.conf"},
            {"type": "file", "source": str(site), "destination": "/srv/app/site"},
            {"type": "file", "source": str(site), "destination": "/srv/app/site"},  # into what came before
            {"type": "shell", "inline": ["cd /srv/app && find . | sort && cat app.conf site/site/index.html"]},
        ],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listing = ["./app.conf", "./site", "./site/index.html", "./site/site", "./site/site/index.html"]
    assert all(f"docker: {path}\n" in done.stdout for path in listing), done.stdout
    assert "docker: key=value" in done.stdout and "docker: <p>hi</p>" in done.stdout
    uploads = [call for call in api_calls(tmp_path) if call.startswith("upload to ")]
    # the file and the first directory as one stream; the second directory after it was sent
    assert uploads == ["upload to '/srv/app/app.conf'", "upload to '/srv/app/site'"]
    assert containers() - before == set()


def test_a_held_back_upload_that_fails_fails_the_build_and_leaves_nothing(tmp_path: Path) -> None:
    conf = tmp_path / "app.conf"
    conf.write_text("key=value\n")
    before = containers()
    done = build(
        tmp_path,
        [
            {"type": "file", "source": str(conf), "destination": "/missing/dir/app.conf"},
            {"type": "file", "source": str(conf), "destination": "/missing/dir/other.conf"},
            {"type": "shell", "inline": ["echo never-runs"]},
        ],
    )
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Upload failed: Failed to upload to '/missing/dir/app.conf' in container" in output
    assert "never-runs" not in output and "Traceback" not in output
    assert containers() - before == set()

"""Fault injection into the post-processors that write files (compress, checksum, manifest,
docker-save, vagrant): an output path that is missing, read-only or full. Each run must exit
non-zero with a message naming the path, print no traceback, and leave no half-written file."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.docker_support import BASE_IMAGE
from tests.integration.leftovers import run_build, tmpfs_setup

pytestmark = pytest.mark.integration

MISSING = "/proc/imagesmith-no-such-dir"
FILE_PPS = {
    "compress": ("output", "out.tar.gz", "compress into"),
    "checksum": ("output", "out.checksum", ""),
    "manifest": ("output", "manifest.json", ""),
}


def file_template(tmp_path: Path, pp: dict[str, Any]) -> str:
    """A file build of 2 MiB of random bytes (incompressible), then ``pp``."""
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(2 << 20))
    raw = {
        "builders": [{"type": "file", "source": str(source), "target": str(tmp_path / "artifact.bin")}],
        "post-processors": [pp],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(raw))
    return str(path)


@pytest.mark.parametrize("kind", sorted(FILE_PPS))
def test_output_in_missing_directory(tmp_path: Path, kind: str) -> None:
    field, name, _ = FILE_PPS[kind]
    run = run_build([file_template(tmp_path, {"type": kind, field: f"{MISSING}/{name}"})], tmp_path)
    run.assert_failed_with(MISSING, "Post-processor failed")
    run.assert_clean()


@pytest.mark.parametrize("kind", sorted(FILE_PPS))
def test_output_read_only(tmp_path: Path, kind: str) -> None:
    field, name, _ = FILE_PPS[kind]
    mount = tmp_path / "ro"
    template = file_template(tmp_path, {"type": kind, field: str(mount / name)})
    run = run_build([template], tmp_path, setup=tmpfs_setup(mount, read_only=True))
    run.assert_failed_with(str(mount), "ead-only file system", "Post-processor failed")
    run.assert_clean()


def test_compress_output_full(tmp_path: Path) -> None:
    mount = tmp_path / "full"
    template = file_template(tmp_path, {"type": "compress", "output": str(mount / "out.tar.gz")})
    after = f'echo "left on the tmpfs: [$(ls -A {mount})]"'
    run = run_build([template], tmp_path, setup=tmpfs_setup(mount, size="512k"), after=after)
    run.assert_failed_with(f"{mount}/out.tar.gz", "No space left on device", "left on the tmpfs: []")
    run.assert_clean()


@pytest.fixture
def repository() -> Iterator[str]:
    """A unique repository name for docker-tag; its images are removed afterwards."""
    name = f"imagesmith-faults/{uuid.uuid4().hex[:12]}"
    yield name
    subprocess.run(["docker", "rmi", "-f", f"{name}:latest"], capture_output=True)


def docker_template(tmp_path: Path, repository: str, pp: dict[str, Any]) -> str:
    raw = {
        "builders": [{"type": "docker", "image": BASE_IMAGE, "pull": False, "commit": True}],
        "post-processors": [[{"type": "docker-tag", "repository": repository, "tags": ["latest"]}, pp]],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(raw))
    return str(path)


def test_docker_save_path_full(need_docker: None, tmp_path: Path, repository: str) -> None:
    mount = tmp_path / "full"
    template = docker_template(tmp_path, repository, {"type": "docker-save", "path": str(mount / "image.tar")})
    after = f'echo "left on the tmpfs: [$(ls -A {mount})]"'
    run = run_build([template], tmp_path, setup=tmpfs_setup(mount, size="256k"), after=after)
    run.assert_failed_with("No space left on device", "left on the tmpfs: []")
    run.assert_clean()


def test_docker_save_path_missing(need_docker: None, tmp_path: Path, repository: str) -> None:
    template = docker_template(tmp_path, repository, {"type": "docker-save", "path": f"{MISSING}/image.tar"})
    run = run_build([template], tmp_path)
    run.assert_failed_with(f"{MISSING}/image.tar", "No such file or directory")
    run.assert_clean()


def test_vagrant_output_read_only(need_docker: None, tmp_path: Path, repository: str) -> None:
    mount = tmp_path / "ro"
    template = docker_template(tmp_path, repository, {"type": "vagrant", "output": str(mount / "x.box")})
    run = run_build([template], tmp_path, setup=tmpfs_setup(mount, read_only=True))
    run.assert_failed_with(str(mount), "ead-only file system")
    run.assert_clean()

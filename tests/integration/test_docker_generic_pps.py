"""The engine's generic post-processors on docker artifacts, through ``imagesmith build``:
manifest and shell-local on a committed image, checksum and compress on an exported tar."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from ..conftest import run_cli
from .docker_support import BASE_IMAGE

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)


def test_manifest_and_shell_local_on_a_committed_image(tmp_path: Path) -> None:
    template = {
        "builders": [{"type": "docker", "image": BASE_IMAGE, "pull": False, "commit": True}],
        "provisioners": [{"type": "shell", "inline": ["echo made > /mark"]}],
        "post-processors": [
            [
                {"type": "manifest", "output": "manifest.json"},
                {"type": "shell-local", "inline": ['echo "$PACKER_BUILDER_TYPE" > pp-ran.txt']},
            ]
        ],
    }
    (tmp_path / "t.json").write_text(json.dumps(template))
    result = run_cli("build", "-machine-readable", "t.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (entry,) = manifest["builds"]
    image_id = entry["artifact_id"]
    assert entry["builder_type"] == "docker" and image_id.startswith("sha256:")
    assert (tmp_path / "pp-ran.txt").read_text().strip() == "docker"
    try:
        out = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--entrypoint", "cat", image_id, "/mark"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "made"
    finally:
        subprocess.run(["docker", "rmi", "-f", image_id], capture_output=True)


def test_checksum_and_compress_on_an_exported_tar(tmp_path: Path) -> None:
    template = {
        "builders": [{"type": "docker", "image": BASE_IMAGE, "pull": False, "export_path": "image.tar"}],
        "provisioners": [{"type": "shell", "inline": ["echo exported > /mark"]}],
        "post-processors": [
            {"type": "checksum", "checksum_types": ["sha256"], "output": "image.{{.ChecksumType}}"},
            {"type": "compress", "output": "image.tar.gz", "keep_input_artifact": True},
        ],
    }
    (tmp_path / "t.json").write_text(json.dumps(template))
    result = run_cli("build", "t.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    exported = (tmp_path / "image.tar").read_bytes()
    digest, name = (tmp_path / "image.sha256").read_text().split()
    assert digest == hashlib.sha256(exported).hexdigest() and name == "image.tar"
    with gzip.open(tmp_path / "image.tar.gz") as fh, tarfile.open(fileobj=fh, mode="r|") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    assert members == {"image.tar": exported}

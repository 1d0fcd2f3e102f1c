"""Layer keys of HCL2 templates on a real docker build: an unchanged HCL2 template reuses every layer,
and a change to a file a provisioner uploads reruns that provisioner and the ones after it."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from ..conftest import ROOT, run_cli

pytestmark = [pytest.mark.integration]


def test_hcl2_template_layers_are_keyed_by_config_and_uploaded_files(need_docker: None, tmp_path: Path) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)
    repository = f"imagesmith-test/layers-hcl2-{uuid.uuid4().hex[:8]}"
    shutil.copytree(ROOT / "examples/docker-hello-files", tmp_path / "docker-hello-files")
    text = (ROOT / "examples/docker-hello.pkr.hcl").read_text()
    (tmp_path / "t.pkr.hcl").write_text(text.replace("imagesmith-example/docker-hello", repository))
    env = {"IMAGESMITH_CACHE_DIR": str(tmp_path / "cache")}

    def build() -> str:
        done = run_cli("build", "-cache=readwrite", "t.pkr.hcl", cwd=tmp_path, env=env, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    try:
        first = build()
        assert "Reusing layer" not in first and "Saving layer 3 (file)" in first, first
        again = build()
        assert "Reusing layer 3/3" in again and "Saving layer" not in again, again
        with (tmp_path / "docker-hello-files/motd").open("a") as motd:
            motd.write("changed\n")  # uploaded by provisioners 2 (the directory) and 3
        changed = build()
        assert "Reusing layer 1/3" in changed and "Saving layer 2 (file)" in changed, changed
    finally:
        run_cli("cache", "clear", env=env)
        subprocess.run(["docker", "rmi", f"{repository}:latest"], capture_output=True)

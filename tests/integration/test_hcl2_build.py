"""``imagesmith build`` of HCL2 configuration against the real docker daemon: the HCL2 twin of
examples/docker-hello.json gives the same image; sensitive variables stay masked in build output."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from ..conftest import run_cli
from .docker_support import containers, docker, image_config, image_listing

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_REPO = "imagesmith-example/docker-hello"


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)


def copy_example(name: str, tmp_path: Path, repository: str) -> Path:
    """The example in its own directory, tagging its image as ``repository`` (so runs never collide)."""
    where = tmp_path / name.replace(".", "_")
    where.mkdir()
    shutil.copytree(ROOT / "examples" / "docker-hello-files", where / "docker-hello-files")
    target = where / name
    target.write_text((ROOT / "examples" / name).read_text().replace(EXAMPLE_REPO, repository))
    return target


def test_hcl2_twin_of_the_docker_example_builds_the_same_image(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    repos = {name: f"imagesmith-test/hcl2-twin-{i}-{suffix}" for i, name in enumerate(["json", "hcl"])}
    before = containers()
    try:
        for kind, name in (("json", "docker-hello.json"), ("hcl", "docker-hello.pkr.hcl")):
            done = run_cli("build", str(copy_example(name, tmp_path, repos[kind])), cwd=tmp_path)
            assert done.returncode == 0, done.stdout + done.stderr
        json_image, hcl_image = (f"{repos[k]}:latest" for k in ("json", "hcl"))
        assert image_config(hcl_image) == image_config(json_image)
        listing = image_listing(hcl_image)
        assert listing == image_listing(json_image)
        assert "srv/www/greeting.txt" in listing and "etc/motd" in listing
        out = docker("run", "--rm", "--network", "none", "--entrypoint", "cat", hcl_image, "/srv/www/greeting.txt")
        assert out == b"hello from docker\n"
        assert containers() - before == set()
    finally:
        for repo in repos.values():
            subprocess.run(["docker", "rmi", f"{repo}:latest"], capture_output=True)


def test_hcl2_upgrade_of_the_docker_example_builds_the_same_image(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    repos = {kind: f"imagesmith-test/hcl2-upgrade-{kind}-{suffix}" for kind in ("json", "hcl")}
    before = containers()
    output = ""
    try:
        json_template = copy_example("docker-hello.json", tmp_path, repos["json"])
        done = run_cli("build", str(json_template), cwd=tmp_path)
        output += done.stdout
        assert done.returncode == 0, done.stdout + done.stderr
        json_template.write_text(json_template.read_text().replace(repos["json"], repos["hcl"]))
        done = run_cli("hcl2_upgrade", str(json_template), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        done = run_cli("build", f"{json_template}.pkr.hcl", cwd=tmp_path)
        output += done.stdout
        assert done.returncode == 0, done.stdout + done.stderr
        json_image, hcl_image = (f"{repos[k]}:latest" for k in ("json", "hcl"))
        assert image_config(hcl_image) == image_config(json_image)
        assert image_listing(hcl_image) == image_listing(json_image)
        out = docker("run", "--rm", "--network", "none", "--entrypoint", "cat", hcl_image, "/srv/www/greeting.txt")
        assert out == b"hello from docker\n"  # {{build_name}} became source.name, still "docker"
        assert "Container ID: " in output
        assert {c for c in containers() - before if c in output} == set()  # ours are gone (others' may run)
    finally:
        for repo in repos.values():
            subprocess.run(["docker", "rmi", f"{repo}:latest"], capture_output=True)


def test_build_output_masks_sensitive_variables_and_fills_build_values(tmp_path: Path) -> None:
    template = tmp_path / "t.pkr.hcl"
    template.write_text(
        'variable "token" {\n  type      = string\n  default   = "s3cr3t-t0ken-value"\n  sensitive = true\n}\n'
        'source "null" "x" {\n  communicator = "none"\n}\n'
        'build {\n  sources = ["source.null.x"]\n'
        '  provisioner "shell-local" {\n'
        '    inline = ["echo token=${var.token}", "echo run=${build.PackerRunUUID} type=${source.type}"]\n'
        "  }\n}\n"
    )
    done = run_cli("build", str(template), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "s3cr3t-t0ken-value" not in done.stdout + done.stderr
    assert "token=<sensitive>" in done.stdout
    run_line = next(line for line in done.stdout.splitlines() if "run=" in line)
    assert "{{" not in run_line and "Build_" not in run_line and "type=null" in run_line
    assert len(run_line.split("run=")[1].split()[0]) == 36  # the run's UUID, filled in at run time

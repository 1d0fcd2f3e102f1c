"""docker-import, docker-tag, docker-save and docker-push on real docker artifacts; push to a local registry."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.docker.artifact import ExportArtifact, ImportArtifact
from imagesmith.core.plugin import BuildInfo, PostProcessor, PostProcessResult
from imagesmith.errors import BuildError
from imagesmith.post_processors.docker_import import DockerImport
from imagesmith.post_processors.docker_push import DockerPush
from imagesmith.post_processors.docker_save import DockerSave
from imagesmith.post_processors.docker_tag import DockerTag

from ..conftest import require_tool
from .docker_support import RecordingUi, decode, docker, run_build

pytestmark = [pytest.mark.integration]
INFO = BuildInfo(build_name="docker", builder_type="docker")


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run(["bash", str(root / "scripts/fixtures/docker-base-image.sh")], check=True)


def post_process(cls: type[PostProcessor], raw: dict[str, Any], artifact: Any, ui: RecordingUi) -> PostProcessResult:
    plugin = cls(decode(cls.config_class, raw), INFO)
    return asyncio.run(plugin.post_process(ui, artifact))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A docker-registry on 127.0.0.1:<free port>, started and stopped here."""
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    require_tool(Path(binary).exists(), "needs Debian's docker-registry package (scripts/setup.sh installs it)")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'store'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2).close()
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = proc.stderr.read() if proc.stderr else b""
                    raise RuntimeError(f"registry did not start: {why!r}") from exc
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_export_import_tag_save(tmp_path: Path) -> None:
    ui = RecordingUi()
    exported = run_build({"export_path": str(tmp_path / "c.tar")}, [{"type": "shell", "inline": ["echo i > /i"]}])
    assert isinstance(exported, ExportArtifact)
    repo = f"imagesmith-test/imported-{tmp_path.name.lower()}"
    imported = post_process(DockerImport, {"repository": repo, "tag": "v1", "changes": ["ENV I=1"]}, exported, ui)
    try:
        assert isinstance(imported.artifact, ImportArtifact) and imported.keep is False
        assert imported.artifact.builder_id == "packer.post-processor.docker-import"
        assert imported.artifact.id == f"{repo}:v1"
        env = json.loads(docker("inspect", "--format", "{{json .Config.Env}}", f"{repo}:v1"))
        assert env == ["I=1"]
        tagged = post_process(DockerTag, {"repository": repo, "tags": ["a", "b"]}, imported.artifact, ui)
        assert tagged.keep is True and tagged.force_override is True
        assert tagged.artifact is not None and tagged.artifact.builder_id == "packer.post-processor.docker-tag"
        assert tagged.artifact.id == f"{repo}:b" and tagged.artifact.state("docker_tags") == [f"{repo}:a", f"{repo}:b"]
        saved = post_process(DockerSave, {"path": str(tmp_path / "s.tar")}, tagged.artifact, ui)
        assert saved.artifact is tagged.artifact and saved.keep is True
        with tarfile.open(tmp_path / "s.tar") as tar:
            assert "manifest.json" in tar.getnames()
        assert f"Saved to: {tmp_path / 's.tar'}" in ui.text()
        with pytest.raises(BuildError, match="Can only tag from Docker builder artifacts"):
            post_process(DockerTag, {"repository": repo}, exported, ui)
        with pytest.raises(BuildError, match="Can only save Docker builder artifacts"):
            post_process(DockerSave, {"path": str(tmp_path / "x.tar")}, exported, ui)
        assert not (tmp_path / "x.tar").exists()
    finally:
        for ref in (f"{repo}:v1", f"{repo}:a", f"{repo}:b"):
            subprocess.run(["docker", "rmi", ref], capture_output=True)


def test_push_to_local_registry(registry: str) -> None:
    ui = RecordingUi()
    committed = run_build({"commit": True}, [{"type": "shell", "inline": ["echo pushed > /pushed"]}])
    assert isinstance(committed, ImportArtifact)
    repo = f"{registry}/imagesmith/pushed"
    try:
        tagged = post_process(DockerTag, {"repository": repo, "tags": ["one", "two"]}, committed, ui)
        pushed = post_process(DockerPush, {}, tagged.artifact, ui)
        assert pushed.artifact is not None and pushed.artifact.id == f"{repo}:two"
        assert pushed.artifact.builder_id == "packer.post-processor.docker-import"
        assert f"Pushing: {repo}:two" in ui.text() and f"Pushing: {repo}:one" in ui.text()
        with urllib.request.urlopen(f"http://{registry}/v2/imagesmith/pushed/tags/list", timeout=10) as resp:
            assert sorted(json.load(resp)["tags"]) == ["one", "two"]
        docker("rmi", f"{repo}:one")
        docker("pull", f"{repo}:one")
        out = docker("run", "--rm", "--network", "none", "--entrypoint", "cat", f"{repo}:one", "/pushed")
        assert out == b"pushed\n"
        with pytest.raises(BuildError, match="Can only import from docker-import and docker-tag artifacts"):
            post_process(DockerPush, {}, ExportArtifact("x.tar"), ui)
    finally:
        for ref in (f"{repo}:one", f"{repo}:two", committed.id):
            subprocess.run(["docker", "rmi", ref], capture_output=True)


def test_builder_pulls_with_login_from_local_registry(registry: str) -> None:
    remote = f"{registry}/imagesmith/base:pull"
    docker("tag", "imagesmith-test/busybox:latest", remote)
    docker("push", remote)
    docker("rmi", remote)
    ui = RecordingUi()
    try:
        artifact = run_build(
            {
                "image": remote,
                "pull": True,
                "discard": True,
                "login": True,
                "login_server": registry,
                "login_username": "builder",
                "login_password": "s3cret-pass",
            },
            [{"type": "shell", "inline": ["echo pulled-ok"]}],
            ui=ui,
        )
        assert isinstance(artifact, ExportArtifact)
        text = ui.text()
        assert f"Pulling Docker image: {remote}" in text and "Logging in..." in text
        assert "pulled-ok" in text and "s3cret-pass" not in text
    finally:
        subprocess.run(["docker", "rmi", remote], capture_output=True)

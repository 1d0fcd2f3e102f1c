"""Helpers for the docker builder's integration tests: build without the engine, inspect images."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from typing import Any

from imagesmith.builders.docker.builder import DockerBuilder
from imagesmith.builders.docker.config import DockerConfig
from imagesmith.core.plugin import Artifact, BuildContext, BuildInfo, Communicator, Provisioner
from imagesmith.errors import Problem, TemplateError
from imagesmith.provisioners.file import FileProvisioner
from imagesmith.provisioners.shell import ShellProvisioner
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

BASE_IMAGE = "imagesmith-test/busybox:latest"
PROVISIONERS: dict[str, type[Provisioner]] = {"shell": ShellProvisioner, "file": FileProvisioner}


class RecordingUi(Ui):
    """Keeps every line (kind, text)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))

    def text(self, kind: str | None = None) -> str:
        return "\n".join(m for k, m in self.lines if kind is None or k == kind)


def decode(cls: type[Any], raw: Mapping[str, Any]) -> Any:
    problems: list[Problem] = []
    config = decode_config(cls, raw, render=None, path="", problems=problems)
    if problems:
        raise TemplateError(problems)
    return config


def make_builder(raw: Mapping[str, Any], on_error: str = "cleanup") -> DockerBuilder:
    info = BuildInfo(build_name="docker", builder_type="docker", on_error=on_error, run_uuid="test-uuid")
    return DockerBuilder(decode(DockerConfig, {"image": BASE_IMAGE, "pull": False, **raw}), info)


async def build(
    raw: Mapping[str, Any],
    provisioners: Sequence[Mapping[str, Any]] = (),
    *,
    on_error: str = "cleanup",
    ui: Ui | None = None,
) -> Artifact | None:
    """Run the docker builder with ``provisioners`` (template-style dicts with a ``type``)."""
    builder = make_builder(raw, on_error)
    the_ui = ui or RecordingUi()

    async def provision(comm: Communicator | None, data: Mapping[str, str]) -> None:
        for block in provisioners:
            body = {k: v for k, v in block.items() if k != "type"}
            cls = PROVISIONERS[block["type"]]
            plugin = cls(decode(cls.config_class, body), builder.info)
            await plugin.provision(the_ui, comm, data)

    async def nothing(comm: Communicator | None, data: Mapping[str, str]) -> None:
        return None

    return await builder.run(BuildContext(ui=the_ui, info=builder.info, provision=provision, cleanup_provision=nothing))


def run_build(*args: Any, **kwargs: Any) -> Artifact | None:
    return asyncio.run(build(*args, **kwargs))


def docker(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["docker", *args], input=input, capture_output=True, check=True).stdout


def containers() -> set[str]:
    return set(docker("ps", "-aq", "--no-trunc").decode().split())


def image_config(image: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(docker("inspect", "--format", "{{json .Config}}", image))
    return {key: config.get(key) for key in ("Env", "Cmd", "Entrypoint", "Labels", "WorkingDir", "User")}


def image_listing(image: str) -> dict[str, tuple[str, int, int, int, str]]:
    """path → (kind, mode, uid, gid, sha256 or link target) of the image's filesystem, via docker export."""
    import hashlib

    container = docker("create", image, "/bin/true").decode().strip()
    try:
        data = docker("export", container)
    finally:
        docker("rm", "-f", container)
    out: dict[str, tuple[str, int, int, int, str]] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            name = member.name.rstrip("/")
            if name in (".dockerenv",) or name.startswith(("dev/", "proc/", "sys/", "etc/hostname", "etc/hosts")):
                continue
            if name == "etc/resolv.conf":
                continue
            if member.isfile():
                f = tar.extractfile(member)
                digest = hashlib.sha256(f.read() if f else b"").hexdigest()
                kind = "file"
            elif member.issym() or member.islnk():
                digest, kind = member.linkname, "link"
            else:
                digest, kind = "", "dir" if member.isdir() else "other"
            out[name] = (kind, member.mode & 0o7777, member.uid, member.gid, digest)
    return out

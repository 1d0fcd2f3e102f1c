"""A recording communicator and helpers shared by the configuration-management provisioner unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from imagesmith.core.plugin import BuildInfo, Communicator, LineCallback, Provisioner
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

INFO = BuildInfo(build_name="web", builder_type="docker", user_variables={"who": "ops"})
DATA = {"PackerHTTPAddr": "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER", "ID": "abc"}


class RecordingComm(Communicator):
    """Records commands and uploads; exit statuses come from ``statuses`` (command prefix → status)."""

    def __init__(self, statuses: Mapping[str, int] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.files: dict[str, bytes] = {}
        self.statuses = dict(statuses or {})

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        self.calls.append(("exec", command))
        for prefix, status in self.statuses.items():
            if command.startswith(prefix):
                if stderr:
                    stderr(f"boom from {prefix}")
                return status
        return 0

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        self.calls.append(("upload", dst))
        self.files[dst] = src if isinstance(src, bytes) else src.read_bytes()

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        self.calls.append(("upload_dir", f"{dst} <- {src}"))

    async def download(self, src: str, dst: Path) -> None:
        raise AssertionError("not used")

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        raise AssertionError("not used")


class ListUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))


def make(cls: type[Provisioner], raw: Mapping[str, Any]) -> Provisioner:
    problems: list[Problem] = []
    config: Any = decode_config(cls.config_class, raw, render=None, path="provisioners[0]", problems=problems)
    assert problems == []
    return cls(config, INFO)


def problems_of(cls: type[Provisioner], raw: Mapping[str, Any]) -> list[str]:
    problems: list[Problem] = []
    decode_config(cls.config_class, raw, render=None, path="provisioners[0]", problems=problems)
    return [p.message for p in problems]


def run(prov: Provisioner, comm: RecordingComm, ui: Ui | None = None) -> ListUi:
    the_ui = ui or ListUi()
    asyncio.run(prov.provision(the_ui, comm, DATA))
    assert isinstance(the_ui, ListUi)
    return the_ui


def make_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Local files and directories the provisioners upload, with the working directory set to them."""
    monkeypatch.chdir(tmp_path)
    for d in ("manifests", "modules/a", "modules/b", "states", "pillar", "roles/web", "group_vars", "cookbooks/app"):
        (tmp_path / d).mkdir(parents=True)
    for f in ("site.pp", "hiera.yaml", "minion", "grains", "play.yml", "galaxy.yml", "secret"):
        (tmp_path / f).write_text(f"{f}\n")
    return tmp_path

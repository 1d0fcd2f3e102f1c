"""The ``file`` builder: an artifact made of one local file (``content`` or a copy of ``source``).

Packer 1.6.6's ``builder/file``: it writes ``target`` (mode 0600 for ``content``), then runs the
provisioners (with a communicator that accepts everything, as Packer's MockCommunicator). Builder
id ``packer.file``; the artifact's id is ``File`` and destroying it removes the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, BuildContext, Builder, Communicator, LineCallback
from imagesmith.errors import BuildError, file_errors
from imagesmith.template.decode import option

BUILDER_ID = "packer.file"


@dataclass(frozen=True)
class FileConfig:
    source: str = option("")
    content: str = option("")
    target: str = option("")

    def check(self) -> Iterator[str]:
        if not self.target:
            yield "target required"
        if self.source and self.content:
            yield "Cannot specify source file AND content"


class MockCommunicator(Communicator):
    """Accepts every command and transfer and does nothing (Packer's ``MockCommunicator``)."""

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        return 0

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        pass

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        pass

    async def download(self, src: str, dst: Path) -> None:
        pass

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        pass


def write_target(config: FileConfig, say: LineCallback) -> None:
    """Create ``target`` (and its directories) from ``source`` or ``content``; no partial target stays."""
    parent = os.path.dirname(config.target)
    if parent:
        with file_errors("create the directory of target", parent):
            os.makedirs(parent, 0o755, exist_ok=True)
    with contextlib.ExitStack() as stack:
        src: BinaryIO | None = None
        if config.source:
            say(f"Copying {config.source} to {config.target}")
            with file_errors("read source", config.source):
                src = stack.enter_context(open(config.source, "rb"))
        with file_errors("write target", config.target):
            fd = os.open(config.target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if src else 0o600)
        try:
            with os.fdopen(fd, "wb") as dst, file_errors("write target", config.target):
                size = _copy(src, config.source, dst) if src else dst.write(config.content.encode())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(config.target)
            raise
    if config.source:
        say(f"Copied {size} bytes")


def _copy(src: BinaryIO, source: str, dst: BinaryIO) -> int:
    size = 0
    while True:
        with file_errors("read source", source):
            chunk = src.read(1 << 20)
        if not chunk:
            return size
        size += dst.write(chunk)


class FileBuilder(Builder):
    type_name = "file"
    config_class = FileConfig

    async def run(self, ctx: BuildContext) -> Artifact | None:
        config: FileConfig = self.config
        try:
            await asyncio.to_thread(write_target, config, ctx.ui.say)
        except OSError as exc:
            raise BuildError(str(exc)) from exc
        await ctx.provision(MockCommunicator(), {})
        return FileArtifact(
            BUILDER_ID, [config.target], artifact_id="File", description=f"Stored file: {config.target}"
        )


PLUGIN = FileBuilder

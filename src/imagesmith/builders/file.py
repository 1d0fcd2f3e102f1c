"""The ``file`` builder: an artifact made of one local file (``content`` or a copy of ``source``).

Packer 1.6.6's ``builder/file``: it writes ``target`` (mode 0600 for ``content``), then runs the
provisioners (with a communicator that accepts everything, as Packer's MockCommunicator). Builder
id ``packer.file``; the artifact's id is ``File`` and destroying it removes the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from imagesmith.communicator.none import NoneCommunicator
from imagesmith.core.artifact import FileArtifact
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder, Communicator, LineCallback
from imagesmith.core.steps import Step, run_steps
from imagesmith.errors import BuildError, file_errors
from imagesmith.steps.provision import ProvisionStep, no_data
from imagesmith.template.decode import option
from imagesmith.ui import Ui

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


@dataclass
class FileState:
    config: FileConfig
    ui: Ui
    #: Packer's MockCommunicator: every command and transfer succeeds and does nothing
    communicator: Communicator = field(default_factory=lambda: NoneCommunicator(accept_transfers=True))
    generated: GeneratedData = field(default_factory=GeneratedData)


class WriteTarget(Step[FileState]):
    """Write ``target`` from ``source`` or ``content``."""

    async def run(self, state: FileState) -> None:
        try:
            await asyncio.to_thread(write_target, state.config, state.ui.say)
        except OSError as exc:
            raise BuildError(str(exc)) from exc


class FileBuilder(Builder):
    type_name = "file"
    config_class = FileConfig

    async def run(self, ctx: BuildContext) -> Artifact | None:
        config: FileConfig = self.config
        state = FileState(config=config, ui=ctx.ui)
        # Packer's file builder provisions with nil generated data: no sentinels, no run UUID.
        steps: list[Step[FileState] | None] = [WriteTarget(), ProvisionStep[FileState](ctx, data=no_data)]
        await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        return FileArtifact(
            BUILDER_ID, [config.target], artifact_id="File", description=f"Stored file: {config.target}"
        )

"""The ``file`` builder: an artifact made of one local file (``content`` or a copy of ``source``).

Packer 1.6.6's ``builder/file``: it writes ``target`` (mode 0600 for ``content``), then runs the
provisioners (with a communicator that accepts everything, as Packer's MockCommunicator). Builder
id ``packer.file``; the artifact's id is ``File`` and destroying it removes the file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

from imagesmith.communicator.none import NoneCommunicator
from imagesmith.core.artifact import FileArtifact
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder, Communicator, LineCallback
from imagesmith.core.steps import Step, run_steps
from imagesmith.errors import BuildError
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
    """Create ``target`` (and its directories) from ``source`` or ``content``."""
    parent = os.path.dirname(config.target)
    if parent:
        os.makedirs(parent, 0o755, exist_ok=True)
    if config.source:
        say(f"Copying {config.source} to {config.target}")
        with open(config.source, "rb") as src, open(config.target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            size = dst.tell()
        say(f"Copied {size} bytes")
        return
    fd = os.open(config.target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(config.content)


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


PLUGIN = FileBuilder

"""StepOutputDir: make ``output_directory``; ``-force`` deletes an old one; a failed build removes it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import file_errors


class PrepareOutputDir(Step[VBoxState]):
    def __init__(self) -> None:
        self.created = False
        self.succeeded = False

    @property
    def name(self) -> str:
        return "StepOutputDir"

    async def run(self, state: VBoxState) -> None:
        out = Path(state.config.output_directory)
        if out.exists():
            if not state.ctx.info.force:
                raise fail(f"Output directory exists: {out}\n\nUse the force flag to delete it prior to building.")
            state.ctx.ui.say("Deleting previous output directory...")
            with file_errors("delete output_directory", out):
                await asyncio.to_thread(shutil.rmtree, out)
        with file_errors("create output_directory", out):
            out.mkdir(parents=True, exist_ok=True)
        self.created = True

    def mark_succeeded(self) -> None:
        self.succeeded = True

    async def cleanup(self, state: VBoxState) -> None:
        if self.created and not self.succeeded:
            state.ctx.ui.say("Deleting output directory...")
            await asyncio.to_thread(shutil.rmtree, state.config.output_directory, True)


class KeepOutput(Step[VBoxState]):
    """Last step: the build succeeded, so the output directory stays."""

    def __init__(self, output: PrepareOutputDir) -> None:
        self.output = output

    async def run(self, state: VBoxState) -> None:
        self.output.mark_succeeded()

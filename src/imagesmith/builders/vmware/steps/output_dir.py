"""StepOutputDir: make ``output_directory`` (``-force`` deletes an old one); a failed or
cancelled build removes it again."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import file_errors


class PrepareOutputDir(Step[VmwareState]):
    def __init__(self) -> None:
        self.created = False
        self.succeeded = False

    @property
    def name(self) -> str:
        return "StepOutputDir"

    async def run(self, state: VmwareState) -> None:
        out = Path(state.config.output_directory)
        state.ctx.ui.say("Configuring output and export directories...")
        if out.exists():
            if not state.ctx.info.force:
                raise fail(f"Output directory '{out}' already exists.")
            state.ctx.ui.message("Deleting previous output directory...")
            with file_errors("delete output_directory", out):
                await asyncio.to_thread(shutil.rmtree, out)
        with file_errors("create output_directory", out):
            out.mkdir(parents=True, exist_ok=True)
        self.created = True

    def mark_succeeded(self) -> None:
        self.succeeded = True

    async def cleanup(self, state: VmwareState) -> None:
        if self.created and not self.succeeded:
            state.ctx.ui.say("Deleting output directory...")
            await asyncio.to_thread(shutil.rmtree, state.config.output_directory, True)


class KeepOutput(Step[VmwareState]):
    """Last step: the build succeeded, so the output directory stays."""

    def __init__(self, output: PrepareOutputDir) -> None:
        self.output = output

    async def run(self, state: VmwareState) -> None:
        self.output.mark_succeeded()

"""stepPrepareOutputDir: make ``output_directory``; ``-force`` deletes an old one; a failed build removes it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from imagesmith.builders.qemu.state import QemuState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import file_errors


class PrepareOutputDir(Step[QemuState]):
    def __init__(self) -> None:
        self.created = False
        self.succeeded = False

    @property
    def name(self) -> str:
        return "stepPrepareOutputDir"

    async def run(self, state: QemuState) -> None:
        out = Path(state.config.output_directory)
        if out.exists():
            if not state.ctx.info.force:
                raise fail(f"Output directory '{out}' already exists. It must not exist.")
            state.ctx.ui.say("Deleting previous output directory...")
            with file_errors("delete output_directory", out):
                await asyncio.to_thread(shutil.rmtree, out)
        with file_errors("create output_directory", out):
            out.mkdir(parents=True, exist_ok=True)
        self.created = True

    def mark_succeeded(self) -> None:
        """Called by the builder once the artifact is complete: keep the directory."""
        self.succeeded = True

    async def cleanup(self, state: QemuState) -> None:
        if self.created and not self.succeeded:
            state.ctx.ui.say("Deleting output directory...")
            await asyncio.to_thread(shutil.rmtree, state.config.output_directory, True)

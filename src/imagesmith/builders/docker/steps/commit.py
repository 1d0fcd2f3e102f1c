"""Finish the container: commit it to an image, or export it to a tar file."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from imagesmith.builders.docker.state import DockerState
from imagesmith.core.steps import Step
from imagesmith.errors import ImagesmithError, file_errors


class CommitContainer(Step[DockerState]):
    """Packer's StepCommit + StepSetGeneratedData (``ImageSha256``)."""

    async def run(self, state: DockerState) -> None:
        config, ui = state.config, state.ctx.ui
        ui.say("Committing the container")
        commit = asyncio.ensure_future(
            state.driver.commit(
                state.container_id, author=config.author, changes=config.changes, message=config.message
            )
        )
        try:
            state.image_id = await asyncio.shield(commit)
        except asyncio.CancelledError:
            # Stopping the docker CLI would not stop the daemon's commit: let it finish, then remove
            # the image, so an interrupted build leaves no partial artifact.
            with contextlib.suppress(ImagesmithError):
                await state.driver.delete_image(await commit)
            raise
        state.generated = state.generated.with_extra(ImageSha256=state.image_id)
        ui.message(f"Image ID: {state.image_id}")


class ExportContainer(Step[DockerState]):
    """Packer's StepExport. A failed or interrupted export leaves no partial file."""

    def __init__(self) -> None:
        self.done = False

    async def run(self, state: DockerState) -> None:
        path = Path(state.config.export_path)
        state.ctx.ui.say("Exporting the container")
        with file_errors("write export_path", path), open(path, "wb") as out:
            state.export_written = True  # only now is there a file to remove on failure

            def write(chunk: bytes) -> None:
                with file_errors("write export_path", path):  # a full disk is not a daemon failure
                    out.write(chunk)

            await state.driver.export(state.container_id, write)
        self.done = True

    async def cleanup(self, state: DockerState) -> None:
        if not self.done and state.export_written:
            await asyncio.to_thread(Path(state.config.export_path).unlink, True)

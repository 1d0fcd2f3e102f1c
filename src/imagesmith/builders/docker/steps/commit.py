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
        pause = await needs_pause(state)
        commit = asyncio.ensure_future(
            state.driver.commit(
                state.container_id, author=config.author, changes=config.changes, message=config.message, pause=pause
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


async def needs_pause(state: DockerState) -> bool:
    """Whether the commit must pause the container, as Packer's ``docker commit`` always does.

    The pause (freezing and thawing the container's cgroup, 30-40 ms here) keeps processes from
    writing while the daemon reads the filesystem. With Packer's default ``run_command`` the
    container's main process is a shell waiting on its terminal, which nothing writes to: when it
    is the only process left (``docker top``, ~20 ms), nothing can write during the commit, nor
    start, and the pause is skipped. Anything else (a custom ``run_command``, a process a
    provisioner left running, a failed ``top``) commits with the pause.
    """
    config = state.config
    if config.run_command or config.windows_container:
        return True
    try:
        return len(await state.driver.processes(state.container_id)) != 1
    except ImagesmithError:
        return True


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

"""The docker builder: a container from ``image``, provisioned, then committed, exported or discarded."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from imagesmith.builders.docker.artifact import ExportArtifact, ImportArtifact
from imagesmith.builders.docker.config import DockerConfig
from imagesmith.builders.docker.driver import Driver
from imagesmith.builders.docker.layers import DockerLayers, FindCachedLayer
from imagesmith.builders.docker.state import DockerState
from imagesmith.builders.docker.steps.commit import CommitContainer, ExportContainer
from imagesmith.builders.docker.steps.connect import ConnectDocker
from imagesmith.builders.docker.steps.pull import PullImage
from imagesmith.builders.docker.steps.run_container import RunContainer, removal_hint
from imagesmith.builders.docker.steps.temp_dir import MakeTempDir
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.errors import ImagesmithError
from imagesmith.steps.provision import ProvisionStep


def make_steps(config: DockerConfig, ctx: BuildContext) -> list[Step[DockerState] | None]:
    """Packer's step list for the docker builder."""
    uses_comm = config.communicator_type != "none"
    return [
        MakeTempDir(),
        when(config.pull, PullImage()),
        when(ctx.find_layer, FindCachedLayer()),
        RunContainer(),
        when(uses_comm, ConnectDocker()),
        ProvisionStep[DockerState](ctx, layers=DockerLayers),
        when(config.commit, CommitContainer()),
        when(config.export_path and not config.commit, ExportContainer()),
    ]


async def discard_artifact(state: DockerState) -> None:
    """A build that fails or is interrupted after its commit or export leaves no artifact behind."""
    if state.image_id:
        with contextlib.suppress(ImagesmithError):
            await state.driver.delete_image(state.image_id)
        state.image_id = ""
    if state.export_written:
        await asyncio.to_thread(Path(state.config.export_path).unlink, True)
        state.export_written = False


class DockerBuilder(Builder):
    type_name = "docker"
    config_class = DockerConfig
    late_render = frozenset({"run_command"})

    async def run(self, ctx: BuildContext) -> Artifact | None:
        config: DockerConfig = self.config
        driver = Driver(on_output=ctx.ui.message, on_error=ctx.ui.error)
        state = DockerState(config=config, driver=driver, ctx=ctx)
        steps: Sequence[Step[DockerState] | None] = make_steps(config, ctx)
        try:
            await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        except BaseException:
            await asyncio.shield(discard_artifact(state))
            if state.container_id and ctx.info.on_error in ("abort", "run-cleanup-provisioner", "ask"):
                ctx.ui.error(
                    f"The container {state.container_id} was left for inspection; "
                    f"remove it with: {removal_hint(state.container_id, _left_dir(state.temp_dir))}"
                )
            raise
        # What Packer 1.6.6's docker artifacts report as generated_data (the commit's image only).
        data = GeneratedData(extra={"ImageSha256": state.image_id}) if config.commit else GeneratedData()
        generated = {"generated_data": data}
        if config.commit:
            return ImportArtifact(state.image_id, state=generated)
        return ExportArtifact(config.export_path, state=generated)


def _left_dir(path: str | None) -> str | None:
    """The build's temp dir if an aborted cleanup left it on disk."""
    return path if path and os.path.isdir(path) else None

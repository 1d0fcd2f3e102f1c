"""docker-save (Packer 1.6.6): ``docker save`` the artifact's image to ``path``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from imagesmith.builders.docker.artifact import BUILDER_ID_IMPORT
from imagesmith.builders.docker.driver import Driver
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.errors import BuildError, file_errors
from imagesmith.post_processors.docker_tag import BUILDER_ID_TAG
from imagesmith.template.decode import option
from imagesmith.ui import Ui


@dataclass(frozen=True)
class DockerSaveConfig:
    path: str = option("")

    def check(self) -> list[str]:
        return [] if self.path else ["path must be specified"]


class DockerSave(PostProcessor):
    type_name = "docker-save"
    config_class = DockerSaveConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        if artifact.builder_id not in (BUILDER_ID_IMPORT, BUILDER_ID_TAG):
            raise BuildError(f"Unknown artifact type: {artifact.builder_id}\nCan only save Docker builder artifacts.")
        path = Path(self.config.path)
        try:
            out = open(path, "wb")  # noqa: SIM115 - closed in finally, removed on failure
        except OSError as exc:
            raise BuildError(f"Error creating output file: {exc}") from exc
        ui.message(f"Saving image: {artifact.id}")
        complete = False
        try:

            def write(chunk: bytes) -> None:
                with file_errors("write path", path):  # a full disk is not a daemon failure
                    out.write(chunk)

            await Driver().save(artifact.id, write)
            complete = True
        finally:
            out.close()
            if not complete:  # failed or interrupted: no partial file
                await asyncio.to_thread(path.unlink, True)
        ui.message(f"Saved to: {path}")
        return PostProcessResult(artifact, keep=True)

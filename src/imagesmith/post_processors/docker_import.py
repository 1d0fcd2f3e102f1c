"""docker-import (Packer 1.6.6): import an exported container tar as an image."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from imagesmith.builders.docker.artifact import BUILDER_ID, BUILDER_ID_IMPORT, ImportArtifact
from imagesmith.builders.docker.driver import Driver
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.errors import BuildError
from imagesmith.template.decode import option
from imagesmith.ui import Ui

ARTIFICE_ID = "packer.post-processor.artifice"
_CHUNK = 4 << 20


@dataclass(frozen=True)
class DockerImportConfig:
    repository: str = option("")
    tag: str = option("")
    changes: list[str] = option(factory=list)


class DockerImport(PostProcessor):
    type_name = "docker-import"
    config_class = DockerImportConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        if artifact.builder_id not in (BUILDER_ID, ARTIFICE_ID):
            raise BuildError(
                f"Unknown artifact type: {artifact.builder_id}\n"
                "Can only import from Docker builder and Artifice post-processor artifacts."
            )
        config: DockerImportConfig = self.config
        repo = f"{config.repository}:{config.tag}" if config.tag else config.repository
        ui.message(f"Importing image: {artifact.id}")
        ui.message(f"Repository: {repo}")
        files = artifact.files
        if not files or not files[0]:
            raise BuildError("docker-import needs an artifact with a file (the builder's export_path)")
        image_id = await Driver().import_image(_read_chunks(files[0]), repo, config.changes)
        ui.message(f"Imported ID: {image_id}")
        return PostProcessResult(ImportArtifact(repo, builder_id=BUILDER_ID_IMPORT), keep=False)


async def _read_chunks(path: str) -> AsyncIterator[bytes]:
    import asyncio

    with open(path, "rb") as src:
        while chunk := await asyncio.to_thread(src.read, _CHUNK):
            yield chunk

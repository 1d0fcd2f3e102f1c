"""The docker builder's artifacts, with Packer's builder ids so post-processor chains behave the same."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from imagesmith.builders.docker.driver import Driver
from imagesmith.core.plugin import Artifact

BUILDER_ID = "packer.docker"
BUILDER_ID_IMPORT = "packer.post-processor.docker-import"


class ImportArtifact(Artifact):
    """A Docker image in the local daemon (docker builder ``commit``, docker-import, docker-tag)."""

    def __init__(self, image_id: str, *, builder_id: str = BUILDER_ID_IMPORT, state: dict[str, Any] | None = None):
        self.builder_id = builder_id
        self._id = image_id
        self._state = dict(state or {})

    @property
    def id(self) -> str:
        return self._id

    def state(self, name: str) -> Any:
        return self._state.get(name)

    def __str__(self) -> str:
        return f"Imported Docker image: {self._id}"

    async def destroy(self) -> None:
        await Driver().delete_image(self._id)


class ExportArtifact(Artifact):
    """A container exported as a tar file (``export_path``; ``discard`` gives an empty path, as in Packer)."""

    builder_id = BUILDER_ID

    def __init__(self, path: str, state: dict[str, Any] | None = None) -> None:
        self.path = path
        self._state = dict(state or {})

    @property
    def id(self) -> str:
        return "Container"

    @property
    def files(self) -> list[str]:
        return [self.path]

    def state(self, name: str) -> Any:
        return self._state.get(name)

    def __str__(self) -> str:
        return f"Exported Docker file: {self.path}"

    async def destroy(self) -> None:
        if self.path:
            await asyncio.to_thread(Path(self.path).unlink, True)

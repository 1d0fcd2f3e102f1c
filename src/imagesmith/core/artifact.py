"""Artifact classes shared by several plugins."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from imagesmith.core.plugin import Artifact


class FileArtifact(Artifact):
    """An artifact made of local files (compress, checksum, file builder, qemu output, ...).

    ``destroy`` removes the files, and ``directory`` too when given (qemu's output dir).
    """

    def __init__(
        self,
        builder_id: str,
        files: Sequence[str],
        *,
        artifact_id: str | None = None,
        description: str | None = None,
        directory: str | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        self.builder_id = builder_id
        self._files = list(files)
        self._id = artifact_id
        self._description = description
        self._directory = directory
        self._state = dict(state or {})

    @property
    def id(self) -> str:
        if self._id is not None:
            return self._id
        return self._files[0] if self._files else "File"

    @property
    def files(self) -> list[str]:
        return list(self._files)

    def state(self, name: str) -> Any:
        return self._state.get(name)

    def __str__(self) -> str:
        if self._description is not None:
            return self._description
        return f"Stored file(s): {', '.join(self._files)}" if self._files else "No files"

    async def destroy(self) -> None:
        def remove() -> None:
            for name in self._files:
                Path(name).unlink(missing_ok=True)
            if self._directory:
                shutil.rmtree(self._directory, ignore_errors=True)

        await asyncio.to_thread(remove)

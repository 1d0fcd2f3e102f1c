"""The ``artifice`` post-processor: replace the artifact by a list of files (Packer 1.6.6)."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.template.decode import option
from imagesmith.ui import Ui

BUILDER_ID = "packer.post-processor.artifice"


@dataclass(frozen=True)
class ArtificeConfig:
    files: list[str] = option(factory=list)

    def check(self) -> Iterator[str]:
        if not self.files:
            yield "No files specified in artifice configuration"


class ArtificeArtifact(FileArtifact):
    """Packer's artifice artifact: the files matching the patterns (Go glob), empty id."""

    def __str__(self) -> str:
        return f"Created artifact from files: {', '.join(self.files)}"


class ArtificePostProcessor(PostProcessor):
    type_name = "artifice"
    config_class = ArtificeConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        if artifact.files:
            ui.say(f"Discarding files from artifact: {', '.join(artifact.files)}")
        files = [name for pattern in self.config.files for name in sorted(glob.glob(pattern)) if os.path.exists(name)]
        result = ArtificeArtifact(BUILDER_ID, files, artifact_id="")
        ui.say(f"Using these artifact files: {', '.join(result.files)}")
        return PostProcessResult(result, keep=True, force_override=False)

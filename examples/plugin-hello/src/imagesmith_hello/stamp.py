"""The ``hello-stamp`` post-processor: writes ``<file><suffix>`` next to each file of the artifact.

Template keys: ``suffix`` (default ``.hello``), ``message`` (default ``stamped by hello-stamp``).
The result is an artifact of the stamp files; the input artifact is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.errors import BuildError
from imagesmith.template.decode import option
from imagesmith.ui import Ui

BUILDER_ID = "example.post-processor.hello-stamp"


@dataclass(frozen=True)
class StampConfig:
    suffix: str = option(".hello")
    message: str = option("stamped by hello-stamp")

    def check(self) -> Iterator[str]:
        if not self.suffix or "/" in self.suffix:
            yield f"suffix must be a non-empty file name ending, not {self.suffix!r}"


class HelloStamp(PostProcessor):
    type_name = "hello-stamp"
    config_class = StampConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        config: StampConfig = self.config
        if not artifact.files:
            raise BuildError(f"hello-stamp needs an artifact with files, got {artifact.builder_id} {artifact.id}")
        stamps = [f"{name}{config.suffix}" for name in artifact.files]
        text = f"{config.message}\nbuild: {self.info.build_name}\nartifact: {artifact.id}\n"
        for stamp in stamps:
            await asyncio.to_thread(Path(stamp).write_text, text)
            ui.say(f"Stamped {stamp}")
        return PostProcessResult(FileArtifact(BUILDER_ID, stamps), keep=True)

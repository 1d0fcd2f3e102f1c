"""docker-tag (Packer 1.6.6): tag the image of a docker artifact; ``tag`` (deprecated) and ``tags``."""

from __future__ import annotations

from dataclasses import dataclass

from imagesmith.builders.docker.artifact import BUILDER_ID_IMPORT, ImportArtifact
from imagesmith.builders.docker.driver import Driver
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.errors import BuildError
from imagesmith.template.decode import option
from imagesmith.ui import Ui

BUILDER_ID_TAG = "packer.post-processor.docker-tag"
DEPRECATED_TAG = (
    'Deprecation warning: "tag" option has been replaced with "tags". In future versions of Packer, '
    "this configuration may not work. Please call `packer fix` on your template to update."
)


@dataclass(frozen=True)
class DockerTagConfig:
    repository: str = option("")
    tag: list[str] = option(factory=list)
    tags: list[str] = option(factory=list)
    force: bool = option(False, doc="ignored: docker dropped tag -f in 1.12, as Packer notes")


class DockerTag(PostProcessor):
    type_name = "docker-tag"
    config_class = DockerTagConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        config: DockerTagConfig = self.config
        if config.tag:
            ui.say(DEPRECATED_TAG)
        if artifact.builder_id not in (BUILDER_ID_TAG, BUILDER_ID_IMPORT):
            raise BuildError(
                f"Unknown artifact type: {artifact.builder_id}\nCan only tag from Docker builder artifacts."
            )
        driver = Driver()
        tags = [*config.tags, *config.tag]
        names = [f"{config.repository}:{tag}" for tag in tags] or [config.repository]
        for name in names:
            ui.message(f"Tagging image: {artifact.id}")
            ui.message(f"Repository: {name}")
            await driver.tag(artifact.id, name)
        state = {"docker_tags": names if tags else []}
        result = ImportArtifact(names[-1], builder_id=BUILDER_ID_TAG, state=state)
        # Tagging an image that is then deleted is pointless: Packer always keeps the input.
        return PostProcessResult(result, keep=True, force_override=True)

"""The amazon-ebs artifact: AMIs per region (id ``region:ami,...``, builder id mitchellh.amazonebs)."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.client import Aws
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Artifact

BUILDER_ID = "mitchellh.amazonebs"


class AmiArtifact(Artifact):
    builder_id = BUILDER_ID

    def __init__(self, amis: dict[str, str], aws: Aws, generated: GeneratedData) -> None:
        self.amis = dict(amis)
        self.aws = aws
        self.generated = generated

    @property
    def id(self) -> str:
        return ",".join(f"{region}:{ami}" for region, ami in sorted(self.amis.items()))

    def __str__(self) -> str:
        lines = [f"{region}: {ami}" for region, ami in sorted(self.amis.items())]
        return "AMIs were created:\n" + "\n".join(lines) + "\n"

    def state(self, name: str) -> Any:
        if name == "atlas.artifact.metadata":
            return {f"region.{region}": ami for region, ami in self.amis.items()}
        if name == "generated_data":
            return self.generated
        return None

    async def destroy(self) -> None:
        from imagesmith.builders.amazon.steps.create_ami import delete_image_with

        for region, ami in sorted(self.amis.items()):
            await delete_image_with(self.aws, region, ami)

"""docker-push (Packer 1.6.6): push the image of a docker-import or docker-tag artifact."""

from __future__ import annotations

from dataclasses import dataclass

from imagesmith.builders.docker.artifact import BUILDER_ID_IMPORT, ImportArtifact
from imagesmith.builders.docker.config import DockerLoginConfig
from imagesmith.builders.docker.driver import Driver
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.errors import BuildError, ImagesmithError
from imagesmith.post_processors.docker_tag import BUILDER_ID_TAG
from imagesmith.secrets import secrets
from imagesmith.ui import Ui


@dataclass(frozen=True)
class DockerPushConfig(DockerLoginConfig):
    def check(self) -> list[str]:
        return list(self.login_problems())


class DockerPush(PostProcessor):
    type_name = "docker-push"
    config_class = DockerPushConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        if artifact.builder_id not in (BUILDER_ID_IMPORT, BUILDER_ID_TAG):
            raise BuildError(
                f"Unknown artifact type: {artifact.builder_id}\n"
                "Can only import from docker-import and docker-tag artifacts."
            )
        config: DockerPushConfig = self.config
        driver = Driver(on_output=ui.message, on_error=ui.error)
        if config.login:
            ui.message("Logging in...")
            if config.login_password:
                secrets.add(config.login_password)
            try:
                await driver.login(config.login_server, config.login_username, config.login_password)
            except ImagesmithError as exc:
                raise BuildError(f"Error logging in to Docker: {exc}") from exc
        try:
            names = list(dict.fromkeys([artifact.id, *(artifact.state("docker_tags") or [])]))
            for name in names:
                ui.message(f"Pushing: {name}")
                await driver.push(name)
        finally:
            if config.login:
                ui.message("Logging out...")
                try:
                    await driver.logout(config.login_server)
                except ImagesmithError as exc:
                    ui.error(f"Error logging out: {exc}")
        return PostProcessResult(ImportArtifact(names[0], builder_id=BUILDER_ID_IMPORT), keep=True)

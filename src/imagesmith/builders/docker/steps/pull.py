"""``docker pull`` the base image, logging in first when asked."""

from __future__ import annotations

from imagesmith.builders.docker.state import DockerState
from imagesmith.core.steps import Step
from imagesmith.secrets import secrets


class PullImage(Step[DockerState]):
    """Packer's StepPull (only in the step list when ``pull`` is true)."""

    async def run(self, state: DockerState) -> None:
        config, ui = state.config, state.ctx.ui
        ui.say(f"Pulling Docker image: {config.image}")
        if config.login:
            ui.message("Logging in...")
            if config.login_password:
                secrets.add(config.login_password)
            await state.driver.login(config.login_server, config.login_username, config.login_password)
        try:
            await state.driver.pull(config.image, config.platform)
        finally:
            if config.login:
                await state.driver.logout(config.login_server)

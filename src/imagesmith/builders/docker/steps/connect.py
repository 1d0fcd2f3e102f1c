"""Make the docker communicator for the running container."""

from __future__ import annotations

import asyncio

from imagesmith.builders.docker.state import DockerState
from imagesmith.communicator.docker import DockerCommunicator
from imagesmith.core.steps import Step


class ConnectDocker(Step[DockerState]):
    """Packer's StepConnect with StepConnectDocker: reads the container's user for fix_upload_owner."""

    async def run(self, state: DockerState) -> None:
        config = state.config
        state.ctx.ui.say(f"Using {config.communicator_type} communicator to connect: ")
        if config.pause_before_connecting > 0:
            state.ctx.ui.say(f"Pausing {config.pause_before_connecting} before connecting...")
            await asyncio.sleep(float(config.pause_before_connecting))
        user = await state.driver.container_user(state.container_id)
        state.communicator = DockerCommunicator(
            state.container_id,
            exec_user=config.exec_user,
            container_user=user,
            fix_upload_owner=config.fix_upload_owner,
            tty=config.pty,
        )

    async def cleanup(self, state: DockerState) -> None:
        if state.communicator is not None:
            await state.communicator.close()
            state.communicator = None

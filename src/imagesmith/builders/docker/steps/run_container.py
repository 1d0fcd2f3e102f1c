"""Start the container the build happens in; remove it afterwards."""

from __future__ import annotations

import shlex

from imagesmith.builders.docker.driver import ContainerSpec, make_run_args, sets_option
from imagesmith.builders.docker.state import DockerState
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.render import go_struct, render_all
from imagesmith.core.steps import Step


def make_container_spec(state: DockerState, image: str = "") -> ContainerSpec:
    """The build's container; ``image`` replaces ``config.image`` (a cached layer's image)."""
    config = state.config
    image = image or config.image
    volumes = {state.temp_dir: config.effective_container_dir, **config.volumes}
    image_field = go_struct("*docker.startContainerTemplate", Image=image)
    return ContainerSpec(
        image=image,
        run_command=render_all(
            config.effective_run_command, state.ctx.info, image_field, error="Error running container: "
        ),
        volumes=volumes,
        device=config.device,
        cap_add=config.cap_add,
        cap_drop=config.cap_drop,
        tmpfs=config.tmpfs,
        privileged=config.privileged,
        platform=config.platform,
        name=state.container_name,
    )


class RunContainer(Step[DockerState]):
    """Packer's StepRun. The container gets ``--network none`` unless ``run_command`` picks a network, and
    a name (``imagesmith-<random>``, unless ``run_command`` names it) so an interrupted ``docker run``
    can still be cleaned up."""

    async def run(self, state: DockerState) -> None:
        ui = state.ctx.ui
        ui.say("Starting docker container...")
        spec = make_container_spec(state, image=state.layer_image)
        ui.message(f"Run command: {' '.join(make_run_args(spec))}")
        state.container_id = await state.driver.start_container(spec)
        state.generated = GeneratedData(id=state.container_id, comm=CommData(conn_type=state.config.communicator_type))
        ui.message(f"Container ID: {state.container_id}")

    async def cleanup(self, state: DockerState) -> None:
        if state.container_id:
            state.ctx.ui.say(f"Killing the container: {state.container_id}")
            await state.driver.kill_container(state.container_id)
            state.container_id = ""
        elif not sets_option(state.config.effective_run_command, "--name"):
            # interrupted while `docker run` was creating it: the id never came back, the name did
            await state.driver.kill_container(state.container_name)


def removal_hint(container_id: str, temp_dir: str | None = None) -> str:
    """What a user runs to remove a container left behind by -on-error=abort, and the host temp
    dir mounted into it (abort skips that cleanup too)."""
    hint = f"docker rm -f {shlex.quote(container_id)}"
    if temp_dir:
        hint += f" && rm -rf {shlex.quote(temp_dir)}"
    return hint

"""The docker builder's layer support: a layer is the container committed to a tagged image.

Layers are tagged ``imagesmith-layers:<key prefix>-<random>`` (one tag per saved snapshot, so two
builds writing the same layer never fight over a tag); restoring replaces the build's container
by one started from the layer's image with the same ``docker run`` settings, so the final commit
gives the same filesystem and config as a build from scratch (docs/layers.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Mapping
from typing import Any

from imagesmith.builders.docker.driver import make_commit_request
from imagesmith.builders.docker.state import DockerState
from imagesmith.builders.docker.steps.run_container import make_container_spec
from imagesmith.communicator.docker import DockerCommunicator
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.steps import Step
from imagesmith.docker_engine import EngineError, Request, call, connect, send
from imagesmith.errors import ImagesmithError
from imagesmith.layers.support import Restored, Snapshot

LAYER_REPOSITORY = "imagesmith-layers"
KIND = "docker-image"


def make_layer_commit_request(container: str, tag: str) -> Request:
    """``docker commit <container> imagesmith-layers:<tag>`` (no changes: those are the final commit's)."""
    plain = make_commit_request(container)
    return Request(plain.method, plain.path, {**(plain.params or {}), "repo": LAYER_REPOSITORY, "tag": tag})


async def commit_layer(container: str, tag: str) -> str:
    async with connect() as docker, call("docker commit"), send(docker, make_layer_commit_request(container, tag)) as r:
        return str((await r.json())["Id"])


async def image_size(image: str) -> int:
    async with connect() as docker, call("docker inspect"):
        return int((await docker.images.inspect(image)).get("Size") or 0)


async def remove_layer_image(ref: str) -> None:
    """Untag a layer (docker deletes the image once nothing else needs it)."""
    with contextlib.suppress(EngineError):
        async with connect() as docker, call("docker rmi"):
            await docker.images.delete(ref)


class DockerLayers:
    """:class:`~imagesmith.layers.support.LayerSupport` for the docker builder's state."""

    kind = KIND

    def __init__(self, state: DockerState) -> None:
        self.state = state
        self.current = state.layer_image or state.config.image  # what the running container started from

    async def base_inputs(self) -> Mapping[str, Any]:
        """The base image's id and the settings that shape the container (not commit/export ones)."""
        config = self.state.config
        return {
            "image_id": await self.state.driver.image_id(config.image),
            "run_command": config.effective_run_command,
            "volumes": config.volumes,
            "privileged": config.privileged,
            "cap_add": config.cap_add,
            "cap_drop": config.cap_drop,
            "device": config.device,
            "tmpfs": config.tmpfs,
            "container_dir": config.effective_container_dir,
            "exec_user": config.exec_user,
            "fix_upload_owner": config.fix_upload_owner,
            "platform": config.platform,
            "communicator": config.communicator_type,
            "pty": config.pty,
        }

    async def snapshot(self, key: str) -> Snapshot:
        ref = f"{LAYER_REPOSITORY}:{key[:40]}-{secrets.token_hex(4)}"
        commit = asyncio.ensure_future(commit_layer(self.state.container_id, ref.partition(":")[2]))
        try:
            await asyncio.shield(commit)
        except asyncio.CancelledError:
            # the daemon finishes a commit the client gave up on: wait for it, then drop the image
            with contextlib.suppress(ImagesmithError):
                await commit
                await remove_layer_image(ref)
            raise
        try:
            size = max(await image_size(ref) - await image_size(self.current), 0)
        except BaseException:
            await asyncio.shield(remove_layer_image(ref))
            raise
        return Snapshot(KIND, ref, size)

    async def verify(self, ref: str) -> bool:
        return await self.state.driver.has_image(ref)

    async def restore(self, ref: str) -> Restored:
        """Replace the build's container by one started from the layer's image (unless it was)."""
        state = self.state
        if ref == self.current and state.communicator is not None:
            return Restored(state.communicator, None)
        state.ctx.ui.say(f"Starting docker container from cached layer {ref}...")
        if state.communicator is not None:
            await state.communicator.close()
        old, state.container_id = state.container_id, ""
        await state.driver.kill_container(old)
        state.container_id = await state.driver.start_container(make_container_spec(state, image=ref))
        self.current = ref
        state.ctx.ui.message(f"Container ID: {state.container_id}")
        user = await state.driver.container_user(state.container_id)
        state.communicator = DockerCommunicator(
            state.container_id,
            exec_user=state.config.exec_user,
            container_user=user,
            fix_upload_owner=state.config.fix_upload_owner,
            tty=state.config.pty,
        )
        comm = CommData(conn_type=state.config.communicator_type)
        state.generated = GeneratedData(id=state.container_id, comm=comm)
        return Restored(state.communicator, state.generated)

    async def discard(self, snapshot: Snapshot) -> None:
        await remove_layer_image(snapshot.ref)


class FindCachedLayer(Step[DockerState]):
    """Before the container starts: pick the deepest cached layer, so it starts from that image."""

    async def run(self, state: DockerState) -> None:
        if state.ctx.find_layer is not None:
            state.layer_image = await state.ctx.find_layer(DockerLayers(state))

"""The docker builder's driver: the daemon over the Engine API (:mod:`imagesmith.docker_engine`).

Requests are built by the pure ``make_*_request`` functions (unit-tested as values) and mirror what
the docker CLI sends for the command Packer 1.6.6 runs (``docker run``, ``commit``, ``import``, ...).
``make_run_args`` still renders the ``docker run`` command line: the UI shows it, and a
``run_command`` with a flag imagesmith does not read (see :mod:`.run_flags`) runs it with the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from imagesmith.builders.docker.registry_auth import encode_auth, registry_of, stored_auth
from imagesmith.builders.docker.run_flags import (
    RunFlags,
    device_mapping,
    env_entry,
    labels,
    parse_run_command,
    tmpfs_mounts,
)
from imagesmith.docker_engine import (
    EngineError,
    Request,
    call,
    connect,
    copy_body,
    progress_line,
    read_messages,
    send,
)
from imagesmith.log import logger
from imagesmith.run import LineCallback, run

DOCKER = "docker"
_NETWORK_FLAGS = ("--network", "--net")
_IMAGE_FIELD = re.compile(r"\{\{\s*\.Image\s*\}\}")
Sink = Callable[[bytes], Awaitable[None] | None]


@dataclass(frozen=True)
class ContainerSpec:
    """What ``docker run`` needs (Packer's ``ContainerConfig``)."""

    image: str
    run_command: Sequence[str]
    volumes: Mapping[str, str] = field(default_factory=dict)
    device: Sequence[str] = ()
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()
    tmpfs: Sequence[str] = ()
    privileged: bool = False
    platform: str = ""
    name: str = ""


def render_run_command(run_command: Sequence[str], image: str) -> list[str]:
    """Render ``{{.Image}}`` in each ``run_command`` element."""
    return [_IMAGE_FIELD.sub(lambda _m: image, arg) for arg in run_command]


def sets_option(run_command: Sequence[str], *flags: str) -> bool:
    """Whether the user's ``run_command`` gives one of ``flags`` itself (before ``--``)."""
    for arg in run_command:
        if arg == "--":
            break
        if arg in flags or arg.startswith(tuple(f"{flag}=" for flag in flags)):
            return True
    return False


def sets_network(run_command: Sequence[str]) -> bool:
    """Whether the user's ``run_command`` chooses a network itself."""
    return sets_option(run_command, *_NETWORK_FLAGS)


def make_run_args(spec: ContainerSpec) -> list[str]:
    """``docker run ...`` as Packer builds it, plus ``--network none`` unless run_command sets a network."""
    args = [DOCKER, "run"]
    for dev in spec.device:
        args += ["--device", dev]
    for cap in spec.cap_add:
        args += ["--cap-add", cap]
    for cap in spec.cap_drop:
        args += ["--cap-drop", cap]
    if spec.privileged:
        args.append("--privileged")
    for mount in spec.tmpfs:
        args += ["--tmpfs", mount]
    for host, guest in spec.volumes.items():
        args += ["-v", f"{host}:{guest}"]
    command = render_run_command(spec.run_command, spec.image)
    if not sets_network(command):
        args += ["--network", "none"]
    if spec.name and not sets_option(command, "--name"):
        args += ["--name", spec.name]
    if spec.platform:
        args += ["--platform", spec.platform]
    return args + command


def make_create_request(spec: ContainerSpec, flags: RunFlags) -> Request:
    """``POST /containers/create`` for ``make_run_args(spec)``, with the body the docker CLI sends."""
    entrypoint = flags.last("entrypoint")
    host_config: dict[str, Any] = {
        "Binds": [f"{host}:{guest}" for host, guest in spec.volumes.items()] + flags.all("volume") or None,
        "NetworkMode": flags.last("network") or "none",
        "Privileged": spec.privileged or flags.switches.get("privileged", False),
        "CapAdd": [*spec.cap_add, *flags.all("cap_add")] or None,
        "CapDrop": [*spec.cap_drop, *flags.all("cap_drop")] or None,
        "Devices": [device_mapping(d) for d in [*spec.device, *flags.all("device")]],
        "Tmpfs": tmpfs_mounts([*spec.tmpfs, *flags.all("tmpfs")]) or None,
        "AutoRemove": flags.switches.get("rm", False),
    }
    if "init" in flags.switches:
        host_config["Init"] = flags.switches["init"]
    body: dict[str, Any] = {
        "Hostname": flags.last("hostname") or "",
        "User": flags.last("user") or "",
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": flags.switches.get("tty", False),
        "OpenStdin": flags.switches.get("interactive", False),
        "StdinOnce": False,
        "Env": [e for e in (env_entry(x) for x in flags.all("env")) if e is not None],
        "Cmd": flags.command or None,
        "Image": flags.image,
        "WorkingDir": flags.last("workdir") or "",
        "Entrypoint": None if entrypoint is None else [entrypoint],
        "Labels": labels(flags.all("label")),
        "HostConfig": host_config,
    }
    params = {"name": flags.last("name") or spec.name}
    platform = flags.last("platform") or spec.platform
    if platform:
        params["platform"] = platform
    return Request("POST", "containers/create", params, body)


def make_commit_request(
    container: str, *, author: str = "", changes: Sequence[str] = (), message: str = "", pause: bool = True
) -> Request:
    """``docker commit [--author] [--change]... [--message] [--pause=false] <container>`` (the daemon reads
    the changes as one Dockerfile, so they travel joined by newlines)."""
    params = {"container": container, "repo": "", "tag": "", "comment": message, "author": author}
    params["pause"] = "1" if pause else "0"
    if changes:
        params["changes"] = "\n".join(changes)
    return Request("POST", "commit", params)


def make_import_request(repository: str, changes: Sequence[str] = (), platform: str = "") -> Request:
    """``docker import [--change]... - <repository>``: the body is the tar stream."""
    params = {"fromSrc": "-", "repo": repository, "tag": "", "message": ""}
    if changes:
        params["changes"] = "\n".join(changes)
    if platform:
        params["platform"] = platform
    return Request("POST", "images/create", params)


def split_reference(reference: str) -> tuple[str, str]:
    """``name[:tag|@digest]`` → (name, tag or digest); the tag is "" when none is given."""
    if "@" in reference:
        name, _, digest = reference.partition("@")
        return name, digest
    name, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        return reference, ""
    return name, tag


def make_tag_request(image: str, reference: str) -> Request:
    """``docker tag <image> <reference>`` (the tag defaults to ``latest``)."""
    repo, tag = split_reference(reference)
    return Request("POST", f"images/{image}/tag", {"repo": repo, "tag": tag or "latest"})


def make_pull_request(image: str, platform: str = "") -> Request:
    repo, tag = split_reference(image)
    params = {"fromImage": repo, "tag": tag or "latest"}
    if platform:
        params["platform"] = platform
    return Request("POST", "images/create", params)


def make_push_request(name: str) -> Request:
    repo, tag = split_reference(name)
    return Request("POST", f"images/{repo}/push", {"tag": tag})


def make_login_request(server: str, username: str, password: str) -> Request:
    return Request("POST", "auth", body={"username": username, "password": password, "serveraddress": server})


class Driver:
    """Talks to the Docker daemon. One instance per build; holds the UI callbacks and login credentials."""

    def __init__(self, on_output: LineCallback | None = None, on_error: LineCallback | None = None) -> None:
        self.on_output = on_output
        self.on_error = on_error
        self._logins: dict[str, dict[str, str]] = {}

    async def version(self) -> str:
        async with connect() as docker, call("docker version"):
            return str((await docker.version())["Version"])

    async def start_container(self, spec: ContainerSpec) -> str:
        """Create and start the container; a failed or interrupted start leaves no container."""
        flags = parse_run_command(render_run_command(spec.run_command, spec.image))
        if flags is None or not flags.image:
            done = await run(make_run_args(spec), what="docker run")
            return done.text.strip()
        request = make_create_request(spec, flags)
        created: list[str] = []
        task = asyncio.ensure_future(self._create_and_start(request, created))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The daemon goes on creating the container when we stop waiting: let the request end,
            # then remove what it made (by name if its id never came back).
            with contextlib.suppress(BaseException):
                await task
            await self.kill_container(created[0] if created else (request.params or {})["name"])
            raise

    async def _create_and_start(self, request: Request, created: list[str]) -> str:
        async with connect() as docker, call("docker run"):
            async with send(docker, request) as response:
                created.append(str((await response.json())["Id"]))
            try:
                async with send(docker, Request("POST", f"containers/{created[0]}/start")):
                    pass
            except BaseException:
                await self.kill_container(created[0])
                raise
        return created[0]

    async def kill_container(self, container: str) -> None:
        """Remove the container whatever its state (Packer: ``docker kill`` then ``docker rm``); a
        missing container is not an error, and the request completes even if the caller is cancelled."""
        await asyncio.shield(self._remove(container))

    async def _remove(self, container: str) -> None:
        request = Request("DELETE", f"containers/{container}", {"force": "1", "v": "1"})
        try:
            async with connect() as docker, call("docker rm"), send(docker, request):
                pass
        except EngineError as exc:
            logger.debug("docker rm %s: %s", container, exc)

    async def container_user(self, container: str) -> str:
        async with connect() as docker, call("docker inspect"):
            info = await docker.containers.container(container).show()
        return str(info["Config"].get("User") or "")

    async def processes(self, container: str) -> list[list[str]]:
        """``docker top``: one row per process in the container."""
        request = Request("GET", f"containers/{container}/top")
        async with connect() as docker, call("docker top"), send(docker, request) as response:
            return list((await response.json()).get("Processes") or [])

    async def commit(
        self, container: str, *, author: str, changes: Sequence[str], message: str, pause: bool = True
    ) -> str:
        request = make_commit_request(container, author=author, changes=changes, message=message, pause=pause)
        async with connect() as docker, call("docker commit"), send(docker, request) as response:
            return str((await response.json())["Id"])

    async def export(self, container: str, sink: Sink) -> None:
        request = Request("GET", f"containers/{container}/export")
        async with connect() as docker, call("docker export"), send(docker, request) as response:
            await copy_body(response, sink)

    async def save(self, image: str, sink: Sink) -> None:
        request = Request("GET", "images/get", {"names": image})
        async with connect() as docker, call("docker save"), send(docker, request) as response:
            await copy_body(response, sink)

    async def import_image(self, chunks: AsyncIterator[bytes], repository: str, changes: Sequence[str]) -> str:
        """``docker import``: returns the new image's id."""
        found: list[str] = []

        def keep(message: dict[str, Any]) -> None:
            if str(message.get("status", "")).startswith("sha256:"):
                found.append(message["status"])

        request = make_import_request(repository, changes)
        async with connect() as docker, call("docker import"), send(docker, request, data=chunks) as response:
            await read_messages(response, keep)
        if not found:
            raise EngineError("docker import", 0, "the daemon returned no image id")
        return found[-1]

    async def image_id(self, image: str) -> str:
        async with connect() as docker, call("docker inspect"):
            return str((await docker.images.inspect(image))["Id"])

    async def has_image(self, image: str) -> bool:
        with contextlib.suppress(EngineError):
            await self.image_id(image)
            return True
        return False

    async def delete_image(self, image: str) -> None:
        async with connect() as docker, call("docker rmi"):
            await docker.images.delete(image)

    async def tag(self, image: str, repository: str) -> None:
        async with connect() as docker, call("docker tag"), send(docker, make_tag_request(image, repository)):
            pass

    async def pull(self, image: str, platform: str = "") -> None:
        await self._stream(make_pull_request(image, platform), registry_of(image), "docker pull")

    async def push(self, name: str) -> None:
        await self._stream(make_push_request(name), registry_of(name), "docker push")

    async def login(self, server: str, username: str, password: str) -> None:
        """Check the credentials with the registry (``docker login``) and keep them for pull/push."""
        key = server or "https://index.docker.io/v1/"
        request = make_login_request(key, username, password)
        async with connect() as docker, call("docker login"), send(docker, request) as response:
            answer = await response.json()
        if self.on_output is not None and answer.get("Status"):
            self.on_output(str(answer["Status"]))
        token = answer.get("IdentityToken")
        auth = {"identitytoken": token} if token else {"username": username, "password": password}
        self._logins[key] = {**auth, "serveraddress": key}

    async def logout(self, server: str) -> None:
        """Forget the credentials of :meth:`login` (the docker config was never changed)."""
        self._logins.pop(server or "https://index.docker.io/v1/", None)

    async def _stream(self, request: Request, server: str, what: str) -> None:
        auth = self._logins.get(server) or await stored_auth(server)
        headers = {"X-Registry-Auth": encode_auth(auth)}

        def show(message: dict[str, Any]) -> None:
            line = progress_line(message)
            if line and self.on_output is not None:
                self.on_output(line)

        async with connect() as docker, call(what), send(docker, request, headers=headers) as response:
            await read_messages(response, show)

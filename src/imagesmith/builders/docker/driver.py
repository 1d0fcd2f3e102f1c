"""The only code that runs the docker CLI.

Command lines are built by the pure ``make_*_args`` functions (unit-tested as lists); the
:class:`Driver` methods run them through :func:`imagesmith.run.run`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from imagesmith.run import Completed, LineCallback, run

DOCKER = "docker"
_NETWORK_FLAGS = ("--network", "--net")
_IMAGE_FIELD = re.compile(r"\{\{\s*\.Image\s*\}\}")


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


def make_commit_args(container: str, *, author: str = "", changes: Sequence[str] = (), message: str = "") -> list[str]:
    args = [DOCKER, "commit"]
    if author:
        args += ["--author", author]
    for change in changes:
        args += ["--change", change]
    if message:
        args += ["--message", message]
    return [*args, container]


def make_import_args(repository: str, changes: Sequence[str] = (), platform: str = "") -> list[str]:
    args = [DOCKER, "import"]
    for change in changes:
        args += ["--change", change]
    if platform:
        args += ["--platform", platform]
    return [*args, "-", repository]


def make_pull_args(image: str, platform: str = "") -> list[str]:
    return [DOCKER, "pull", *(["--platform", platform] if platform else []), image]


def make_login_args(server: str, username: str, password: str) -> list[str]:
    args = [DOCKER, "login"]
    if username:
        args += ["-u", username]
    if password:
        args.append("--password-stdin")
    return args + ([server] if server else [])


class Driver:
    """Runs docker. One instance per build; stateless apart from the UI callbacks."""

    def __init__(self, on_output: LineCallback | None = None, on_error: LineCallback | None = None) -> None:
        self.on_output = on_output
        self.on_error = on_error

    async def version(self) -> str:
        done = await run([DOCKER, "version", "--format", "{{.Server.Version}}"], what="docker version")
        return done.text.strip()

    async def start_container(self, spec: ContainerSpec) -> str:
        done = await run(make_run_args(spec), what="docker run")
        return done.text.strip()

    async def kill_container(self, container: str) -> None:
        """Remove the container whatever its state (Packer: ``docker kill`` then ``docker rm``)."""
        await run([DOCKER, "rm", "-f", "-v", container], check=False, what="docker rm")

    async def container_user(self, container: str) -> str:
        done = await run([DOCKER, "inspect", "--format", "{{.Config.User}}", container], what="docker inspect")
        return done.text.strip()

    async def commit(self, container: str, *, author: str, changes: Sequence[str], message: str) -> str:
        args = make_commit_args(container, author=author, changes=changes, message=message)
        return (await run(args, what="docker commit")).text.strip()

    async def export(self, container: str, sink: Callable[[bytes], Awaitable[None] | None]) -> None:
        await run([DOCKER, "export", container], stdout_sink=sink, what="docker export")

    async def save(self, image: str, sink: Callable[[bytes], Awaitable[None] | None]) -> None:
        await run([DOCKER, "save", image], stdout_sink=sink, what="docker save")

    async def import_image(self, chunks: AsyncIterator[bytes], repository: str, changes: Sequence[str]) -> str:
        done = await run(make_import_args(repository, changes), stdin=chunks, what="docker import")
        return done.text.strip()

    async def image_id(self, image: str) -> str:
        done = await run([DOCKER, "inspect", "--format", "{{.Id}}", image], what="docker inspect")
        return done.text.strip()

    async def has_image(self, image: str) -> bool:
        done = await run([DOCKER, "image", "inspect", image], check=False, what="docker image inspect")
        return done.returncode == 0

    async def delete_image(self, image: str) -> None:
        await run([DOCKER, "rmi", image], what="docker rmi")

    async def tag(self, image: str, repository: str) -> None:
        await run([DOCKER, "tag", image, repository], what="docker tag")

    async def pull(self, image: str, platform: str = "") -> None:
        await self._stream(make_pull_args(image, platform), "docker pull")

    async def push(self, name: str) -> None:
        await self._stream([DOCKER, "push", name], "docker push")

    async def login(self, server: str, username: str, password: str) -> None:
        args = make_login_args(server, username, password)
        await run(args, stdin=password.encode() if password else None, on_stdout=self.on_output, what="docker login")

    async def logout(self, server: str) -> None:
        await run([DOCKER, "logout", *([server] if server else [])], on_stdout=self.on_output, what="docker logout")

    async def _stream(self, argv: list[str], what: str) -> Completed:
        return await run(argv, on_stdout=self.on_output, on_stderr=self.on_error, what=what)

"""What builders, provisioners, post-processors, communicators and artifacts look like.

A plugin class names its frozen config dataclass in ``config_class``; the core decodes and checks
the template block into it (see :mod:`imagesmith.template.decode`) before anything runs, then
constructs the plugin with that config and the :class:`BuildInfo`. Modules that define plugins
keep heavy imports (asyncssh, rich, compression libraries) inside the methods that need them,
so ``imagesmith validate`` stays fast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from imagesmith.ui import Ui

#: Packer's exit status for "the remote command's connection dropped" (``packersdk.CmdDisconnect``).
CMD_DISCONNECT = 2300218

LineCallback = Callable[[str], None]


@dataclass(frozen=True)
class BuildInfo:
    """What Packer passes every plugin as ``packerConfig``."""

    build_name: str
    builder_type: str
    template_path: str = ""
    user_variables: Mapping[str, str] = field(default_factory=dict)
    force: bool = False
    debug: bool = False
    on_error: str = "cleanup"
    run_uuid: str = ""


class Communicator(ABC):
    """A channel into the machine being built: run commands, move files."""

    @abstractmethod
    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        """Run ``command`` through the remote shell; return its exit status.

        Returns :data:`CMD_DISCONNECT` when the connection dropped before an exit status came.
        """

    @abstractmethod
    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        """Write a local file (or bytes) to the remote path ``dst``."""

    @abstractmethod
    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        """Copy the directory ``src`` to ``dst`` with Packer's rsync rule (trailing slash = contents).

        Pass ``src`` as a ``str`` to keep a trailing slash (a ``Path`` drops it).
        """

    @abstractmethod
    async def download(self, src: str, dst: Path) -> None:
        """Copy the remote file ``src`` to the local path ``dst``."""

    @abstractmethod
    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        """Copy the remote directory ``src`` to the local directory ``dst``."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection."""


class Artifact(ABC):
    """The result of a builder or post-processor."""

    builder_id: str = ""

    @property
    @abstractmethod
    def id(self) -> str: ...

    @property
    def files(self) -> list[str]:
        return []

    def state(self, name: str) -> Any:
        return None

    def __str__(self) -> str:
        return self.id

    @abstractmethod
    async def destroy(self) -> None:
        """Remove what the artifact refers to (files, images)."""


ProvisionHook = Callable[[Communicator | None, Mapping[str, str]], Awaitable[None]]


@dataclass
class BuildContext:
    """What a builder's ``run`` receives from the core."""

    ui: Ui
    info: BuildInfo
    provision: ProvisionHook
    #: runs the error-cleanup-provisioner after a provisioning failure (no-op if none)
    cleanup_provision: ProvisionHook
    #: -debug: wait for Enter (None when not debugging)
    pause: Callable[[str], Awaitable[None]] | None = None


class Plugin(ABC):
    """Common base: the config class and the type name the template uses."""

    type_name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any, info: BuildInfo) -> None:
        self.config = config
        self.info = info


class Builder(Plugin):
    #: fields rendered only at run time (Packer's InterpolateFilter.Exclude)
    late_render: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    async def run(self, ctx: BuildContext) -> Artifact | None:
        """Build; return the artifact (None for builders that make none)."""


class Provisioner(Plugin):
    @abstractmethod
    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        """Provision through ``comm``; ``data`` is the build's generated data (ID, Host, ...)."""


@dataclass
class PostProcessResult:
    artifact: Artifact | None
    keep: bool  # Packer's default keep
    force_override: bool = False


class PostProcessor(Plugin):
    @abstractmethod
    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult: ...

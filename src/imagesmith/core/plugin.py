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
from typing import TYPE_CHECKING, Any, ClassVar

from imagesmith.core.generated import GeneratedData
from imagesmith.ui import Ui

if TYPE_CHECKING:
    from imagesmith.layers.support import LayerSupport

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
    cache: str = "off"  # layer cache mode (-cache): off, read, readwrite


class Communicator(ABC):
    """A channel into the machine being built: run commands, move files.

    ``defer_uploads``: the provision hook sets it while a ``file`` provisioner uploads; a
    communicator may then hold uploads back and send them together at :meth:`flush` (the docker one
    does), as long as every other operation flushes first. The hook flushes before any other
    provisioner and after the last one.
    """

    defer_uploads: bool = False

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

    async def start_process(self, command: str) -> RemoteProcess:
        """Start ``command`` (as :meth:`execute` would run it) with raw, streamed stdin/stdout/stderr.

        What relays other programs' sessions needs (the ansible provisioner's SSH proxy). A
        communicator that cannot stream raises :class:`imagesmith.errors.BuildError`.
        """
        from imagesmith.errors import BuildError

        raise BuildError(f"the {type(self).__name__} cannot stream a remote command's input and output")

    async def flush(self) -> None:  # noqa: B027 - optional hook
        """Send what ``defer_uploads`` held back (nothing, unless the communicator defers)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection."""


#: :meth:`RemoteProcess.read`'s stream numbers
STDOUT, STDERR = 1, 2


class RemoteProcess(ABC):
    """A command running through a communicator, its streams as raw bytes (see ``start_process``)."""

    @abstractmethod
    async def write(self, data: bytes) -> None:
        """Send ``data`` to the command's standard input."""

    @abstractmethod
    async def write_eof(self) -> None:
        """Close the command's standard input."""

    @abstractmethod
    async def read(self) -> tuple[int, bytes] | None:
        """The next chunk of output as ``(STDOUT or STDERR, data)``; None once both streams ended."""

    @abstractmethod
    async def wait(self) -> int:
        """The exit status, once output has ended (:data:`CMD_DISCONNECT` if the connection dropped)."""

    @abstractmethod
    async def close(self) -> None:
        """Stop relaying and release the stream (the command may still be running)."""


class Artifact(ABC):
    """The result of a builder or post-processor: a value the core passes down the chain.

    ``builder_id`` decides which post-processors accept it (Packer's ids, e.g. ``transcend.qemu``);
    ``id`` and ``files`` are what Packer's ``Id()`` and ``Files()`` report; ``state(name)`` answers
    Packer's ``State(name)`` (``generated_data``, ``diskName``, ...). ``destroy`` removes what the
    artifact refers to; the core calls it when the chain does not keep the artifact.
    """

    builder_id: str = ""

    @property
    @abstractmethod
    def id(self) -> str: ...

    @property
    def files(self) -> list[str]:
        return []

    def state(self, name: str) -> Any:
        return None

    @property
    def generated_data(self) -> GeneratedData:
        """The build data a post-processor renders with (``state("generated_data")``, typed).

        Empty when the artifact carries none. Artifacts store a :class:`GeneratedData` (or, from
        older code, a plain mapping) under ``generated_data``.
        """
        return GeneratedData.from_mapping(self.state("generated_data"))

    def __str__(self) -> str:
        return self.id

    @abstractmethod
    async def destroy(self) -> None:
        """Remove what the artifact refers to (files, images)."""


#: ``(communicator, data)``: ``data`` is the builder's generated data, or None for a builder that
#: has none (Packer's file builder passes nil: ``{{ build `ID` }}`` then renders ``<no value>``).
ProvisionHook = Callable[[Communicator | None, GeneratedData | None], Awaitable[None]]
LayeredProvisionHook = Callable[["LayerSupport", Communicator | None, GeneratedData | None], Awaitable[None]]


@dataclass
class BuildContext:
    """What a builder's ``run`` receives from the core.

    Builders do not call ``provision``/``cleanup_provision`` themselves: they put
    :class:`imagesmith.steps.provision.ProvisionStep` in their step list, which completes the
    data (:meth:`GeneratedData.populated`) and runs the hooks.
    """

    ui: Ui
    info: BuildInfo
    #: runs the build's provisioners in order (the first error stops the build)
    provision: ProvisionHook
    #: runs the error-cleanup-provisioner after a provisioning failure (no-op if none)
    cleanup_provision: ProvisionHook
    #: -debug: wait for Enter (None when not debugging)
    pause: Callable[[str], Awaitable[None]] | None = None
    #: like ``provision``, through the layer cache with the builder's layer support
    #: (:mod:`imagesmith.layers`); None when the cache is off
    provision_layered: LayeredProvisionHook | None = None
    #: the deepest cached layer's reference, for a builder that can start from it directly
    #: (docker starts its container from the layer's image); None when the cache is off
    find_layer: Callable[[LayerSupport], Awaitable[str]] | None = None


class Plugin(ABC):
    """Common base: the config class and the type name the template uses."""

    type_name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any, info: BuildInfo) -> None:
        self.config = config
        self.info = info


class Builder(Plugin):
    """Makes the machine and the artifact: Packer's ``Builder.Run``.

    Contract:

    - ``run`` builds a list of steps (``builders/<name>/steps/*.py`` plus the shared ones in
      :mod:`imagesmith.steps`: download, HTTP server, :class:`~imagesmith.steps.connect.ConnectSsh`,
      :class:`~imagesmith.steps.provision.ProvisionStep`) and runs it with
      :func:`imagesmith.core.steps.run_steps`; cleanups run in reverse, also on errors and Ctrl-C.
    - The steps share one typed state dataclass; it holds ``generated: GeneratedData`` (what the
      builder knows: ``id``, ``comm``, ``http_ip``/``http_port``, builder-specific ``extra``) and
      ``communicator`` (None when there is none: use :class:`imagesmith.communicator.none.NoneCommunicator`
      for ``communicator: none``).
    - Fields named in ``late_render`` are not rendered when the template is prepared; a step
      renders them with :func:`imagesmith.core.render.render_runtime` once their data exists.
      Where Packer's data there is a Go struct (qemu's ``boot_command``: ``*qemu.bootCommandTemplateData``),
      pass :func:`imagesmith.core.render.go_struct` so unknown fields and ``build`` fail as in Packer.
    - It returns the artifact (None when there is none) carrying the ``GeneratedData`` under
      ``state("generated_data")``; it raises :class:`imagesmith.errors.BuildError` on failure
      and never prints: messages go to ``ctx.ui``.
    """

    #: fields rendered only at run time (Packer's InterpolateFilter.Exclude)
    late_render: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    async def run(self, ctx: BuildContext) -> Artifact | None:
        """Build; return the artifact (None for builders that make none)."""


class Provisioner(Plugin):
    """Changes the machine through its communicator: Packer's ``Provisioner.Provision``.

    The core makes one instance per run of the provisioner, with its config rendered against the
    build's real generated data (``{{ build `ID` }}`` has its value). Fields the config marks
    ``render=False`` (``execute_command``, ...) are rendered by the plugin with
    :func:`imagesmith.core.render.render_runtime`, its data being ``data`` plus its own keys
    (``{**data, "Path": ..., "Vars": ...}``, as Packer adds them to the generated data).
    Retries, ``pause_before`` and ``timeout`` are the core's; ``provision`` just runs once.
    """

    @abstractmethod
    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        """Provision through ``comm``; ``data`` is the build's generated data as template data.

        ``data`` is a :class:`GeneratedData` (a ``Mapping[str, str]``: ``ID``, ``Host``,
        ``PackerHTTPAddr``...; empty for builders without data). ``comm`` is None only if the
        build has no communicator, which the core reports before calling. Raise
        :class:`imagesmith.errors.BuildError` on failure.
        """


@dataclass
class PostProcessResult:
    """What a post-processor returns: the new artifact and whether to keep the input one.

    ``keep`` is the post-processor's default; the user's ``keep_input_artifact`` overrides it
    unless ``force_override`` (Packer's ``(artifact, keep, forceOverride, err)``).
    """

    artifact: Artifact | None
    keep: bool  # Packer's default keep
    force_override: bool = False


class PostProcessor(Plugin):
    """Turns an artifact into another: Packer's ``PostProcessor.PostProcess``.

    Contract: fields rendered at run time (``output``: ``render=False`` in the config) go through
    :func:`imagesmith.core.render.render_runtime` with ``artifact.generated_data`` plus the
    post-processor's own keys (``BuildName``, ``BuilderType``, ...); ``self.info`` gives the build
    name, type, template path and user variables. The core, not the plugin, destroys or keeps
    the input artifact after reading the result.
    """

    @abstractmethod
    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        """Process ``artifact``; raise :class:`imagesmith.errors.BuildError` on failure."""

"""The ``null`` builder: no machine, only a communicator to provision through.

Packer 1.6.6's ``builder/null``: with ``communicator: none`` it just runs the provisioners
(``shell-local`` and friends); with ``communicator: ssh`` it connects to ``ssh_host`` and
provisions that machine. Its artifact exports nothing (builder id ``fnoeding.null``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.core.plugin import Artifact, BuildContext, Builder, Communicator, LineCallback
from imagesmith.core.provision import ProvisionStep
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.errors import BuildError

BUILDER_ID = "fnoeding.null"


@dataclass(frozen=True)
class NullConfig(CommunicatorConfig):
    """The null builder has only the communicator options."""

    def check(self) -> Iterator[str]:
        yield from self.check_communicator()
        if self.communicator == "none":
            return
        if self.communicator == "winrm":
            yield "the winrm communicator is not supported by imagesmith"
            return
        if not self.ssh_host:
            yield "a Host must be specified, please reference your communicator documentation"
        if not self.ssh_agent_auth and not self.ssh_password and not self.ssh_private_key_file:
            yield "one authentication method must be specified, please reference your communicator documentation"
        chosen = [bool(self.ssh_agent_auth), bool(self.ssh_password), bool(self.ssh_private_key_file)]
        if sum(chosen) > 1:
            yield "only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified"


class NoneCommunicator(Communicator):
    """Packer's ``none`` communicator: commands "succeed" without running, transfers fail."""

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        return 0

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        raise BuildError("Upload is not implemented when communicator = 'none'")

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        raise BuildError("UploadDir is not implemented when communicator = 'none'")

    async def download(self, src: str, dst: Path) -> None:
        raise BuildError("Download is not implemented when communicator = 'none'")

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        raise BuildError("DownloadDir is not implemented when communicator = 'none'")


class NullArtifact(Artifact):
    builder_id = BUILDER_ID

    @property
    def id(self) -> str:
        return "Null"

    def state(self, name: str) -> object:
        # What Packer 1.6.6's post-processors observe from a null build's artifact.
        return {"ID": "Null"} if name == "generated_data" else None

    def __str__(self) -> str:
        return "Did not export anything. This is the null builder"

    async def destroy(self) -> None:
        pass


@dataclass
class NullState:
    config: NullConfig
    ctx: BuildContext
    communicator: Communicator | None = None
    data: dict[str, str] = field(default_factory=lambda: {"ID": "Null"})


class ConnectSsh(Step[NullState]):
    """Packer's ``StepConnect`` for ssh: wait for the host, log in; close on cleanup."""

    @property
    def name(self) -> str:
        return "StepConnect"

    async def run(self, state: NullState) -> None:
        from imagesmith.communicator.ssh import SshCommunicator

        config = state.config
        settings = config.ssh_settings(config.ssh_host, config.effective_ssh_port)
        state.communicator = await SshCommunicator.open(settings, state.ctx.ui)
        state.data.update(
            Host=config.ssh_host,
            Port=str(config.effective_ssh_port),
            User=config.ssh_username,
            Password=config.ssh_password,
            ConnType="ssh",
            SSHPrivateKeyFile=config.ssh_private_key_file,
            SSHAgentAuth="true" if config.ssh_agent_auth else "false",
        )

    async def cleanup(self, state: NullState) -> None:
        if state.communicator is not None:
            await state.communicator.close()


class NullBuilder(Builder):
    type_name = "null"
    config_class = NullConfig

    async def run(self, ctx: BuildContext) -> Artifact | None:
        config: NullConfig = self.config
        state = NullState(config=config, ctx=ctx)
        if config.communicator == "none":
            state.communicator = NoneCommunicator()
        steps: list[Step[NullState] | None] = [
            when(config.communicator != "none", ConnectSsh()),
            ProvisionStep(ctx, comm=lambda s: s.communicator, data=lambda s: s.data),
        ]
        await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        return NullArtifact()


PLUGIN = NullBuilder

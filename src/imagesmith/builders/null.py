"""The ``null`` builder: no machine, only a communicator to provision through.

Packer 1.6.6's ``builder/null``: with ``communicator: none`` it just runs the provisioners
(``shell-local`` and friends); with ``communicator: ssh`` it connects to ``ssh_host`` and
provisions that machine. Its artifact exports nothing (builder id ``fnoeding.null``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from imagesmith.communicator.none import NoneCommunicator
from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder, Communicator
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.connect import ConnectSsh
from imagesmith.steps.provision import ProvisionStep

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
    generated: GeneratedData = field(default_factory=lambda: GeneratedData(id="Null"))


def comm_data(config: NullConfig) -> CommData:
    """The communicator settings provisioners see as ``Host``, ``Port``, ``User``... ."""
    return CommData(
        conn_type="ssh",
        host=config.ssh_host,
        port=config.effective_ssh_port,
        user=config.ssh_username,
        password=config.ssh_password,
        ssh_private_key_file=config.ssh_private_key_file,
        ssh_agent_auth=bool(config.ssh_agent_auth),
    )


class NullBuilder(Builder):
    type_name = "null"
    config_class = NullConfig

    async def run(self, ctx: BuildContext) -> Artifact | None:
        config: NullConfig = self.config
        state = NullState(config=config, ctx=ctx)
        if config.communicator == "none":
            state.communicator = NoneCommunicator()
        else:
            state.generated = GeneratedData(id="Null", comm=comm_data(config))
        steps: list[Step[NullState] | None] = [
            when(
                config.communicator != "none",
                ConnectSsh[NullState](config, ctx.ui, lambda s: (config.ssh_host, config.effective_ssh_port)),
            ),
            ProvisionStep[NullState](ctx),
        ]
        await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        return NullArtifact()

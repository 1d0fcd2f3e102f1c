"""Packer's ``communicator.StepConnect`` for ssh, shared by every builder that logs in over SSH.

The builder says where to connect (``address``: its forwarded port, the instance's IP...) and,
if it made a temporary key pair, which private keys to offer (``keys``). The step waits for the
server, logs in, honours ``pause_before_connecting`` (connect, disconnect, pause, connect again,
as Packer does) and closes the connection on cleanup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from imagesmith.core.steps import Step, fail
from imagesmith.template.values import format_go_duration
from imagesmith.ui import Ui

if TYPE_CHECKING:
    from imagesmith.communicator.ssh_config import CommunicatorConfig
    from imagesmith.core.plugin import Communicator


class ConnectState(Protocol):
    communicator: Communicator | None


S = TypeVar("S", bound=ConnectState)


async def no_keys(state: object) -> tuple[str, ...]:
    return ()


class ConnectSsh(Step[S]):
    """Log in over SSH to ``address(state)`` with ``config``'s settings; ``state.communicator`` gets it."""

    def __init__(
        self,
        config: CommunicatorConfig,
        ui: Ui,
        address: Callable[[S], tuple[str, int]],
        keys: Callable[[S], Awaitable[tuple[str, ...]]] = no_keys,
    ) -> None:
        self.config = config
        self.ui = ui
        self.address = address
        self.keys = keys

    @property
    def name(self) -> str:
        return "StepConnect"

    async def run(self, state: S) -> None:
        from imagesmith.communicator.ssh import SshCommunicator

        cfg = self.config
        if cfg.communicator == "winrm":
            raise fail("the winrm communicator is not supported by imagesmith yet")
        host, port = self.address(state)
        settings = cfg.ssh_settings(host, port, await self.keys(state))
        self.ui.say(f"Using ssh communicator to connect: {host}")
        self.ui.say("Waiting for SSH to become available...")
        comm = await SshCommunicator.open(settings, self.ui)
        if cfg.pause_before_connecting > 0:
            await comm.close()
            self.ui.say(f"Pausing {format_go_duration(cfg.pause_before_connecting)} before connecting...")
            await asyncio.sleep(cfg.pause_before_connecting)
            comm = await SshCommunicator.open(settings, self.ui)
        self.ui.say("Connected to SSH!")
        state.communicator = comm

    async def cleanup(self, state: S) -> None:
        if state.communicator is not None:
            await state.communicator.close()
            state.communicator = None

"""Running amazon-instance's bundle commands in the guest (Packer's ``RemoteCmd.RunWithUi``)."""

from __future__ import annotations

from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.plugin import CMD_DISCONNECT, Communicator
from imagesmith.core.steps import fail


def communicator(state: EbsState) -> Communicator:
    if state.communicator is None:
        raise fail("amazon-instance needs a communicator to bundle the volume in the guest")
    return state.communicator


async def run_in_guest(state: EbsState, command: str, what: str) -> int:
    """Packer's ``RemoteCmd.RunWithUi``: the exit status; a lost connection is an error."""
    ui = state.ctx.ui
    if state.ctx.info.debug:
        ui.say(f"Running: {command}")
    status = await communicator(state).execute(command, stdout=ui.message, stderr=ui.error)
    if status == CMD_DISCONNECT:
        raise fail(f"Error {what}: the connection to the guest was lost")
    return status

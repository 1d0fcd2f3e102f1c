"""StepConnect: ssh to ``ssh_host`` (or the address ``ssh_interface`` names), or nothing."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.communicator.ssh_connect import SshSettings
from imagesmith.core.plugin import Communicator
from imagesmith.core.steps import Step, fail
from imagesmith.ui import Ui


async def open_ssh(settings: SshSettings, ui: Ui) -> Communicator:
    """The one place the amazon builders open SSH (to be repointed at the shared connect step)."""
    from imagesmith.communicator.ssh import SshCommunicator

    return await SshCommunicator.open(settings, ui)


def ssh_host(cfg: Any, instance: dict[str, Any]) -> str:
    """Packer's ``SSHHost``: ``ssh_host`` first, then the address ``ssh_interface`` picks."""
    if cfg.ssh_host:
        return str(cfg.ssh_host)
    keys = {
        "public_ip": ["PublicIpAddress"], "private_ip": ["PrivateIpAddress"],
        "public_dns": ["PublicDnsName"], "private_dns": ["PrivateDnsName"],
        "": ["PublicDnsName", "PublicIpAddress", "PrivateIpAddress"],
    }[cfg.ssh_interface]  # fmt: skip
    for key in keys:
        if instance.get(key):
            return str(instance[key])
    raise fail(f"could not find an address for ssh_interface {cfg.ssh_interface or 'default'!r}")


class ConnectSsh(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepConnect"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        host = ssh_host(cfg, state.instance)
        keys = (state.private_key,) if state.private_key and not cfg.ssh_private_key_file else ()
        settings = cfg.ssh_settings(host, cfg.effective_ssh_port, keys)
        ui.say(f"Using ssh communicator to connect: {host}")
        ui.say("Waiting for SSH to become available...")
        state.communicator = await open_ssh(settings, ui)
        ui.say("Connected to SSH!")

    async def cleanup(self, state: EbsState) -> None:
        if state.communicator is not None:
            await state.communicator.close()
            state.communicator = None

"""StepCleanupTempKeys: with ``ssh_clear_authorized_keys``, remove the temporary key pair's line from
the guest's authorized_keys files (the user's and root's), as Packer 1.6.6 does after provisioning.

EC2 puts the key pair's public key in the guest with the key pair's name as its comment, so the
line to delete is the one ending in `` packer_<uuid>``. Failures are only reported (Packer logs
them): the key pair itself is deleted from EC2 anyway.
"""

from __future__ import annotations

from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step


def clear_commands(key_name: str) -> list[str]:
    """Packer's two commands: the login user's file, then root's through sudo."""
    return [
        f"sed -i.bak '/ {key_name}$/d' ~/.ssh/authorized_keys; rm ~/.ssh/authorized_keys.bak",
        f"sudo sed -i.bak '/ {key_name}$/d' /root/.ssh/authorized_keys; sudo rm /root/.ssh/authorized_keys.bak",
    ]


class CleanupTempKeys(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepCleanupTempKeys"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        temporary = cfg.uses_temporary_key and not cfg.ssh_keypair_name and state.key_name
        if not (cfg.ssh_clear_authorized_keys and (cfg.communicator or "ssh") == "ssh" and temporary):
            return
        if state.communicator is None:
            return
        ui = state.ctx.ui
        ui.say("Trying to remove ephemeral keys from authorized_keys files")
        for command in clear_commands(state.key_name):
            status = await state.communicator.execute(command, stdout=ui.message, stderr=ui.error)
            if status != 0:
                ui.message(f"Error cleaning up authorized_keys (exit status {status}); please clean up keys manually")

"""StepSshKeyPair and StepCleanupTempKeys, as Packer 1.6.6's VirtualBox builders do them.

Without ``ssh_password``, the build gets a key for the communicator: the public half of
``ssh_private_key_file``, the SSH agent, or else an ephemeral ECDSA P-521 pair named
``packer_<uuid>`` (Packer's ``ssh.NewKeyPair`` default). The public key line reaches the guest only
through the template (``{{ .SSHPublicKey }}`` in ``boot_command``, or a kickstart the user serves);
an ephemeral key is removed from the guest's authorized_keys files after provisioning.
With ``-debug`` the ephemeral private key is saved as ``<build name>.pem`` for the duration of the build.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.communicator.ssh_connect import make_key_pair
from imagesmith.core.steps import Step, fail
from imagesmith.log import logger


def read_public_key(path: str, comment: str) -> str:
    """The authorized_keys line of the private key in ``path``."""
    import asyncssh

    key = asyncssh.read_private_key(os.path.expanduser(path))
    key.set_comment(comment)
    return key.export_public_key("openssh").decode().strip()


class SshKeyPair(Step[VBoxState]):
    def __init__(self) -> None:
        self.debug_key = ""

    @property
    def name(self) -> str:
        return "StepSshKeyPair"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.ssh_password:
            return
        comment = f"packer_{uuid.uuid4()}"
        if cfg.ssh_private_key_file:
            ui.say("Using existing SSH private key for the communicator...")
            try:
                state.ssh_public_key = await asyncio.to_thread(read_public_key, cfg.ssh_private_key_file, comment)
            except (OSError, ValueError) as exc:
                raise fail(f"Error reading ssh_private_key_file {cfg.ssh_private_key_file}: {exc}") from exc
            state.ssh_key_name = comment
            return
        if cfg.ssh_agent_auth:
            ui.say("Using local SSH Agent to authenticate connections for the communicator...")
            return
        ui.say("Creating ephemeral key pair for SSH communicator...")
        private, public = await asyncio.to_thread(make_key_pair, "ecdsa", 521, comment)
        state.ssh_private_key, state.ssh_public_key, state.ssh_key_name = private, public, comment
        state.clear_authorized_keys = True
        ui.say("Created ephemeral SSH key pair for communicator")
        if state.ctx.info.debug:
            self.debug_key = f"{state.ctx.info.build_name}.pem"
            ui.message(f"Saving communicator private key for debug purposes: {self.debug_key}")
            fd = os.open(self.debug_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(private)

    async def cleanup(self, state: VBoxState) -> None:
        if self.debug_key:
            try:
                os.remove(self.debug_key)
            except OSError as exc:
                state.ctx.ui.error(f"Error removing debug key '{self.debug_key}': {exc}")


async def ssh_keys(state: VBoxState) -> tuple[str, ...]:
    """The private key texts StepConnect offers besides ``ssh_private_key_file``."""
    return (state.ssh_private_key,) if state.ssh_private_key else ()


class CleanupTempKeys(Step[VBoxState]):
    """Remove the key named ``packer_<uuid>`` from the user's and root's authorized_keys."""

    @property
    def name(self) -> str:
        return "StepCleanupTempKeys"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        clear = cfg.ssh_clear_authorized_keys or state.clear_authorized_keys
        if not clear or (cfg.communicator or "ssh") != "ssh" or not state.ssh_key_name or state.communicator is None:
            return
        ui = state.ctx.ui
        ui.say("Trying to remove ephemeral keys from authorized_keys files")
        name = state.ssh_key_name
        for command in (f"sed -i.bak '/ {name}$/d' ~/.ssh/authorized_keys; rm ~/.ssh/authorized_keys.bak",
                        f"sudo sed -i.bak '/ {name}$/d' /root/.ssh/authorized_keys; "
                        "sudo rm /root/.ssh/authorized_keys.bak"):  # fmt: skip
            with contextlib.suppress(Exception):  # Packer only logs these failures
                status = await state.communicator.execute(command, stdout=ui.message, stderr=ui.error)
                if status != 0:
                    logger.debug("cleaning up authorized_keys exited %s; please clean up keys manually", status)

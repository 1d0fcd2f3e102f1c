"""Temporary SSH key pairs: StepSSHKeyGen (made in the background while the VM boots) and
StepCleanupTempKeys (``ssh_clear_authorized_keys``)."""

from __future__ import annotations

import asyncio
import contextlib

from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.state import QemuState
from imagesmith.communicator.ssh_connect import make_key_pair
from imagesmith.core.steps import Step


def wants_temporary_key(cfg: QemuConfig) -> bool:
    """Packer makes a key pair when SSH has no password, key file or agent (or a type is asked for)."""
    if cfg.communicator not in ("", "ssh"):
        return False
    if cfg.temporary_key_pair_type:
        return True
    return not (cfg.ssh_password or cfg.ssh_private_key_file or cfg.ssh_agent_auth)


async def temporary_keys(state: QemuState) -> tuple[str, str]:
    """``(private, public)`` of the build's temporary key pair ("" when there is none)."""
    if state.key_task is None:
        return "", ""
    private, public = await state.key_task
    state.ssh_private_key, state.ssh_public_key = private, public
    return private, public


class MakeKeyPair(Step[QemuState]):
    @property
    def name(self) -> str:
        return "StepSSHKeyGen"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        state.ctx.ui.say(f"Creating temporary {cfg.temporary_key_pair_type or 'rsa'} SSH key for instance...")
        state.key_task = asyncio.ensure_future(
            asyncio.to_thread(make_key_pair, cfg.temporary_key_pair_type or "rsa", cfg.temporary_key_pair_bits)
        )

    async def cleanup(self, state: QemuState) -> None:
        if state.key_task is not None and not state.key_task.done():
            state.key_task.cancel()
            with contextlib.suppress(BaseException):
                await state.key_task


class CleanupTempKeys(Step[QemuState]):
    """Remove the temporary public key from the guest's authorized_keys files."""

    @property
    def name(self) -> str:
        return "StepCleanupTempKeys"

    async def run(self, state: QemuState) -> None:
        if state.communicator is None or not state.ssh_public_key:
            return
        state.ctx.ui.say("Trying to remove ephemeral keys from authorized_keys files")
        key = state.ssh_public_key.split()[1]
        for prefix in ("", "sudo "):
            await state.communicator.execute(f"{prefix}sed -i.bak '\\#{key}#d' ~/.ssh/authorized_keys; "
                                             f"{prefix}rm -f ~/.ssh/authorized_keys.bak")  # fmt: skip

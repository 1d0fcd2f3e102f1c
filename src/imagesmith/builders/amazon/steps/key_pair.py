"""StepKeyPair: a temporary EC2 key pair, or the given ``ssh_keypair_name``/private key file."""

from __future__ import annotations

import uuid
from pathlib import Path

from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step
from imagesmith.secrets import secrets


class KeyPair(Step[EbsState]):
    def __init__(self) -> None:
        self.created = ""

    @property
    def name(self) -> str:
        return "StepKeyPair"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.ssh_private_key_file:
            ui.say("Using existing SSH private key")
            state.private_key = Path(cfg.ssh_private_key_file).expanduser().read_text()
            state.key_name = cfg.ssh_keypair_name
            return
        if cfg.ssh_keypair_name:
            state.key_name = cfg.ssh_keypair_name
            return
        if not cfg.uses_temporary_key:
            ui.say("Not using temporary keypair")
            return
        name = cfg.temporary_key_pair_name or f"packer_{uuid.uuid4()}"
        ui.say(f"Creating temporary keypair: {name}")

        def keep(result: dict[str, str]) -> None:
            self.created = name
            secrets.add(result.get("KeyMaterial", ""))

        created = await state.aws.call("ec2", "CreateKeyPair", on_result=keep, KeyName=name)
        state.key_name = name
        state.private_key = created["KeyMaterial"]

    async def cleanup(self, state: EbsState) -> None:
        if not self.created:
            return
        state.ctx.ui.say("Deleting temporary keypair...")
        await state.aws.call("ec2", "DeleteKeyPair", KeyName=self.created)
        self.created = ""

"""StepRegisterAMI (amazon-instance): RegisterImage from the bundle's manifest in S3."""

from __future__ import annotations

import secrets as random
import string
from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.create_ami import is_intermediary, publish_build_ami
from imagesmith.core.steps import Step


class RegisterBundle(Step[EbsState]):
    """RegisterImage from the uploaded manifest, then wait until the AMI is available.

    Packer 1.6.6 leaves the AMI when a later step fails; imagesmith deregisters it (nothing is
    left behind by a failed build; docs/differences.md).
    """

    def __init__(self) -> None:
        self.image_id = ""

    @property
    def name(self) -> str:
        return "StepRegisterAMI"

    async def run(self, state: EbsState) -> None:
        cfg: Any = state.config
        ui = state.ctx.ui
        ui.say("Registering the AMI...")
        name = cfg.ami_name
        if is_intermediary(cfg):
            name = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(7))
        params: dict[str, Any] = {"ImageLocation": state.bundle.remote_manifest_path, "Name": name}
        mappings = [device.to_api() for device in cfg.ami_block_device_mappings]
        if mappings:
            params["BlockDeviceMappings"] = mappings
        if cfg.ami_virtualization_type:
            params["VirtualizationType"] = cfg.ami_virtualization_type
        if cfg.sriov_support:
            params["SriovNetSupport"] = "simple"
        if cfg.ena_support:
            params["EnaSupport"] = True

        def keep(result: dict[str, Any]) -> None:
            self.image_id = result["ImageId"]

        await state.aws.call("ec2", "RegisterImage", on_result=keep, **params)
        ui.say(f"AMI: {self.image_id}")
        await publish_build_ami(state, self.image_id, keep_snapshots=False)

    async def cleanup(self, state: EbsState) -> None:
        if not self.image_id or state.succeeded:
            return
        state.ctx.ui.say("Deregistering the AMI because of cancellation or error...")
        await state.aws.call("ec2", "DeregisterImage", ImageId=self.image_id)
        self.image_id = ""

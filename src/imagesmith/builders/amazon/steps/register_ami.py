"""StepRegisterAMI (amazon-ebssurrogate): register an AMI from the launch volumes' snapshots.

The block devices are ``ami_block_device_mappings`` overridden by the launch mappings (with their
snapshot, their encryption left to it), the ``ami_root_device`` source renamed to its device name.
Packer collects them in a Go map, so their order is random; here they follow the template.
"""

from __future__ import annotations

import secrets as random
import string
from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.create_ami import is_intermediary, publish_build_ami
from imagesmith.core.steps import Step


def combine_devices(cfg: Any, snapshots: dict[str, str]) -> list[dict[str, Any]]:
    devices: dict[str, dict[str, Any]] = {d.device_name: d.to_api() for d in cfg.ami_block_device_mappings}
    for device in cfg.launch_block_device_mappings:
        if getattr(device, "omit_from_artifact", False):
            continue
        mapping = device.to_api()
        if device.device_name in snapshots and "Ebs" in mapping:
            mapping["Ebs"]["SnapshotId"] = snapshots[device.device_name]
            mapping["Ebs"].pop("Encrypted", None)
            mapping["Ebs"].pop("KmsKeyId", None)
        if device.device_name == cfg.ami_root_device.source_device_name:
            mapping["DeviceName"] = cfg.ami_root_device.device_name
        devices[mapping["DeviceName"]] = mapping
    return list(devices.values())


def ami_name(cfg: Any) -> str:
    """The AMI's name; a random one for an intermediary AMI that a later copy renames."""
    if is_intermediary(cfg):
        return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(7))
    return str(cfg.ami_name)


class RegisterImageStep(Step[EbsState]):
    """StepRegisterAMI: RegisterImage with :meth:`image_params`, wait for the AMI, deregister it
    if the build fails later. Subclasses say what the image is made of."""

    keep_snapshots = True
    cleanup_message = "Deregistering the AMI because cancellation or error..."

    def __init__(self) -> None:
        self.image_id = ""

    @property
    def name(self) -> str:
        return "StepRegisterAMI"

    def image_params(self, state: EbsState) -> dict[str, Any]:
        raise NotImplementedError

    async def run(self, state: EbsState) -> None:
        cfg: Any = state.config
        state.ctx.ui.say("Registering the AMI...")
        params = {"Name": ami_name(cfg), **self.image_params(state)}
        if cfg.sriov_support:
            params["SriovNetSupport"] = "simple"
        if cfg.ena_support:
            params["EnaSupport"] = True

        def keep(result: dict[str, Any]) -> None:
            self.image_id = result["ImageId"]

        await state.aws.call("ec2", "RegisterImage", on_result=keep, **params)
        state.ctx.ui.say(f"AMI: {self.image_id}")
        await publish_build_ami(state, self.image_id, keep_snapshots=self.keep_snapshots)

    async def cleanup(self, state: EbsState) -> None:
        # Packer only deregisters (the snapshots are the snapshot step's to delete)
        if not self.image_id or state.succeeded:
            return
        state.ctx.ui.say(self.cleanup_message)
        await state.aws.call("ec2", "DeregisterImage", ImageId=self.image_id)
        self.image_id = ""


class RegisterAmi(RegisterImageStep):
    """amazon-ebssurrogate: the image is the launch volumes' snapshots."""

    def image_params(self, state: EbsState) -> dict[str, Any]:
        cfg: Any = state.config
        return {
            "Architecture": cfg.architecture, "RootDeviceName": cfg.ami_root_device.device_name,
            "VirtualizationType": cfg.ami_virtualization_type,
            "BlockDeviceMappings": combine_devices(cfg, state.device_snapshots),
        }  # fmt: skip

"""stepCreateAMI: CreateImage from the stopped instance, wait until it is available.

With ``encrypt_boot`` (or ``skip_save_build_region``) the image gets a random name: it is an
intermediary that the region copy replaces and removes.
"""

from __future__ import annotations

import secrets as random
import string
from typing import Any

from imagesmith.builders.amazon.client import Aws, AwsError
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.wait import wait_limits, wait_until
from imagesmith.core.steps import Step


def is_intermediary(cfg: Any) -> bool:
    return bool(cfg.encrypt_boot) or bool(cfg.skip_save_build_region)


async def wait_for_image(state: EbsState, region: str, image_id: str) -> list[str]:
    """Wait until ``image_id`` is available; return its snapshot ids.

    The snapshots come from the poll that saw it available (Packer describes the image once more
    after its waiter: one call fewer here).
    """
    seen: dict[str, Any] = {}

    async def probe() -> str:
        found = await state.aws.call("ec2", "DescribeImages", region, ImageIds=[image_id])
        images = found["Images"]
        seen["image"] = images[0] if images else {}
        return str(images[0]["State"]) if images else "missing"

    what = f"AMI {image_id} in {region} to be available"
    limits = wait_limits(state.config.aws_polling)
    await wait_until(what, probe, {"available"}, failed=frozenset({"failed"}), limits=limits)
    return snapshots_of(seen["image"])


async def publish_build_ami(state: EbsState, image_id: str, *, keep_snapshots: bool = True) -> None:
    """The build region's new AMI (CreateImage, RegisterImage): record it, wait until it is available.

    ``keep_snapshots=False``: amazon-instance's AMI has no EBS snapshots for later steps (Packer
    stores an empty map there).
    """
    region = state.config.region
    state.amis = {region: image_id}
    state.ctx.ui.say("Waiting for AMI to become ready...")
    snapshots = await wait_for_image(state, region, image_id)
    state.snapshots = {region: snapshots} if keep_snapshots else {}


def snapshots_of(image: dict[str, Any]) -> list[str]:
    return [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("SnapshotId")]


async def delete_image(state: EbsState, region: str, image_id: str) -> None:
    await delete_image_with(state.aws, region, image_id)


async def delete_image_with(aws: Aws, region: str, image_id: str) -> None:
    """DescribeImages, DeregisterImage and DeleteSnapshot for each of its snapshots."""
    try:
        found = await aws.call("ec2", "DescribeImages", region, ImageIds=[image_id])
    except AwsError as exc:
        if exc.code.startswith("InvalidAMIID"):
            return  # already gone
        raise
    for image in found["Images"]:
        await aws.call("ec2", "DeregisterImage", region, ImageId=image["ImageId"])
        for snapshot in snapshots_of(image):
            await aws.call("ec2", "DeleteSnapshot", region, SnapshotId=snapshot)


class CreateAmi(Step[EbsState]):
    def __init__(self) -> None:
        self.image_id = ""

    @property
    def name(self) -> str:
        return "stepCreateAMI"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        name = cfg.ami_name
        if is_intermediary(cfg):
            name = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(7))
        ui.say(f"Creating AMI {name} from instance {state.instance_id}")

        def keep(result: dict[str, Any]) -> None:
            self.image_id = result["ImageId"]

        params: dict[str, Any] = {"InstanceId": state.instance_id, "Name": name}
        mappings = [device.to_api() for device in cfg.ami_block_device_mappings]
        if mappings:
            params["BlockDeviceMappings"] = mappings
        await state.aws.call("ec2", "CreateImage", on_result=keep, **params)
        ui.message(f"AMI: {self.image_id}")
        await publish_build_ami(state, self.image_id)

    async def cleanup(self, state: EbsState) -> None:
        # Packer removes the AMI only when the build was halted or cancelled after creating it.
        if not self.image_id or state.succeeded:
            return
        state.ctx.ui.say("Deregistering the AMI and deleting associated snapshots because of cancellation, or error...")
        await delete_image(state, state.config.region, self.image_id)

"""StepDeregisterAMI (``force_deregister``): remove AMIs named ``ami_name`` in every target region."""

from __future__ import annotations

from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step


class DeregisterAmi(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepDeregisterAMI"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        for region in [*cfg.ami_regions, cfg.region]:
            found = await state.aws.call("ec2", "DescribeImages", region, Owners=["self"],
                                         Filters=[{"Name": "name", "Values": [cfg.ami_name]}])  # fmt: skip
            for image in found["Images"]:
                await state.aws.call("ec2", "DeregisterImage", region, ImageId=image["ImageId"])
                ui.say(f"Deregistered AMI {cfg.ami_name}, id: {image['ImageId']}")
                if not cfg.force_delete_snapshot:
                    continue
                for mapping in image.get("BlockDeviceMappings", []):
                    snapshot = mapping.get("Ebs", {}).get("SnapshotId")
                    if snapshot:
                        await state.aws.call("ec2", "DeleteSnapshot", region, SnapshotId=snapshot)
                        ui.say(f"Deleted snapshot: {snapshot}")

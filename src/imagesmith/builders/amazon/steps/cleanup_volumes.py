"""StepCleanupVolumes: after termination, delete the instance's volumes left "available".

Volumes named in ``launch_block_device_mappings`` are kept (their delete_on_termination decides).
"""

from __future__ import annotations

from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step


class CleanupVolumes(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepCleanupVolumes"

    async def run(self, state: EbsState) -> None:
        pass

    async def cleanup(self, state: EbsState) -> None:
        if not state.volume_ids:
            return
        ui = state.ctx.ui
        ui.say("Cleaning up any extra volumes...")
        kept = {d.device_name for d in state.config.launch_block_device_mappings}
        by_volume = {
            m["Ebs"]["VolumeId"]: m["DeviceName"] for m in state.instance.get("BlockDeviceMappings", []) if "Ebs" in m
        }
        found = await state.aws.call("ec2", "DescribeVolumes",
                                     Filters=[{"Name": "volume-id", "Values": list(state.volume_ids)}])  # fmt: skip
        doomed = [
            v["VolumeId"] for v in found["Volumes"]
            if v["State"] == "available" and by_volume.get(v["VolumeId"]) not in kept
        ]  # fmt: skip
        if not doomed:
            ui.say("No volumes to clean up, skipping")
            return
        for volume_id in doomed:
            ui.message(f"Removing any volume: {volume_id}")
            await state.aws.call("ec2", "DeleteVolume", VolumeId=volume_id)

"""StepSnapshotVolumes (amazon-ebssurrogate): a snapshot of each launch volume kept in the artifact.

Packer snapshots the volumes concurrently (so in no fixed order), with ``snapshot_tags`` set at
creation, and waits for each to complete; after an error or Ctrl-C it deletes them.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from imagesmith.builders.amazon.render import render_tags, to_api_tags
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.tag_volumes import volume_of
from imagesmith.builders.amazon.wait import wait_limits, wait_until
from imagesmith.core.steps import Step, fail


class SnapshotVolumes(Step[EbsState]):
    def __init__(self) -> None:
        #: device name → snapshot id
        self.snapshots: dict[str, str] = {}

    @property
    def name(self) -> str:
        return "StepSnapshotVolumes"

    async def run(self, state: EbsState) -> None:
        devices = [d.device_name for d in state.config.launch_block_device_mappings
                   if not getattr(d, "omit_from_artifact", False)]  # fmt: skip
        await asyncio.gather(*(self.snapshot(state, device) for device in devices))
        state.device_snapshots = dict(self.snapshots)

    async def snapshot(self, state: EbsState, device: str) -> None:
        ui, cfg = state.ctx.ui, state.config
        volume = volume_of(state.instance, device)
        if not volume:
            raise fail(f"Volume ID for device {device} not found")
        ui.say("Creating snapshot tags")
        tags = render_tags(cfg.snapshot_tags, cfg.snapshot_tag, state.generated.extra, state.ctx.info, "snapshot_tags")
        ui.say(f"Creating snapshot of EBS Volume {volume}...")
        params: dict[str, Any] = {"VolumeId": volume, "Description": f"Packer: {datetime.datetime.now()}"}
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "snapshot", "Tags": to_api_tags(tags)}]

        def keep(result: dict[str, Any]) -> None:
            self.snapshots[device] = result["SnapshotId"]

        await state.aws.call("ec2", "CreateSnapshot", on_result=keep, **params)
        snapshot = self.snapshots[device]

        async def probe() -> str:
            found = await state.aws.call("ec2", "DescribeSnapshots", SnapshotIds=[snapshot])
            return str(found["Snapshots"][0]["State"]) if found["Snapshots"] else "missing"

        await wait_until(f"snapshot {snapshot} to be completed", probe, {"completed"}, failed=frozenset({"error"}),
                         limits=wait_limits(cfg.aws_polling))  # fmt: skip

    async def cleanup(self, state: EbsState) -> None:
        if not self.snapshots or state.succeeded:
            return
        state.ctx.ui.say("Removing snapshots since we cancelled or halted...")
        for snapshot in self.snapshots.values():
            await state.aws.call("ec2", "DeleteSnapshot", SnapshotId=snapshot)
        self.snapshots = {}

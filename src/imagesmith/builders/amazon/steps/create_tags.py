"""StepCreateTags: ``tags`` on each AMI and its snapshots, then ``snapshot_tags`` on the snapshots."""

from __future__ import annotations

from imagesmith.builders.amazon.render import render_tags, to_api_tags
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.create_ami import snapshots_of
from imagesmith.core.steps import Step


class CreateTags(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepCreateTags"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        info = state.ctx.info
        data = {**state.generated.extra, "SourceAMITags": state.source.tags if state.source else {}}
        tags = render_tags(cfg.tags, cfg.tag, data, info, "tags")
        snapshot_tags = render_tags(cfg.snapshot_tags, cfg.snapshot_tag, data, info, "snapshot_tags")
        if not tags and not snapshot_tags:
            return
        for region, image_id in state.amis.items():
            ui.say(f"Adding tags to AMI ({image_id})...")
            found = await state.aws.call("ec2", "DescribeImages", region, ImageIds=[image_id])
            snapshots = [s for image in found["Images"] for s in snapshots_of(image)]
            for snapshot in snapshots:
                ui.message(f"Tagging snapshot: {snapshot}")
            if tags:
                ui.message("Creating AMI tags")
                await state.aws.call("ec2", "CreateTags", region, Resources=[image_id, *snapshots],
                                     Tags=to_api_tags(tags))  # fmt: skip
            if snapshot_tags and snapshots:
                ui.message("Creating snapshot tags")
                await state.aws.call("ec2", "CreateTags", region, Resources=snapshots,
                                     Tags=to_api_tags(snapshot_tags))  # fmt: skip

"""stepTagEBSVolumes (amazon-ebsvolume): the volumes to keep, their run tags replaced by their own tags."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.render import render_tags, to_api_tags
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.volume_config import EbsVolumeConfig
from imagesmith.core.steps import Step


def volume_of(instance: dict[str, Any], device: str) -> str:
    for mapping in instance.get("BlockDeviceMappings", []):
        if mapping.get("DeviceName") == device and "Ebs" in mapping:
            return str(mapping["Ebs"]["VolumeId"])
    return ""


class TagEbsVolumes(Step[EbsState]):
    def __init__(self, config: EbsVolumeConfig) -> None:
        self.config = config
        #: the artifact's volumes: those not deleted on termination
        self.kept: list[str] = []

    @property
    def name(self) -> str:
        return "stepTagEBSVolumes"

    async def run(self, state: EbsState) -> None:
        cfg, ui = self.config, state.ctx.ui
        data, info = state.generated.extra, state.ctx.info
        kept = [d for d in cfg.ebs_volumes if not d.delete_on_termination]
        self.kept = [vol for d in kept if (vol := volume_of(state.instance, d.device_name))]
        if not cfg.ebs_volumes:
            return
        run_tags = render_tags(cfg.run_volume_tags, cfg.run_volume_tag, data, info, "run_volume_tags")
        if run_tags:
            ui.say("Removing any tags applied to EBS volumes when the source instance was created...")
            volumes = [vol for d in cfg.ebs_volumes if (vol := volume_of(state.instance, d.device_name))]
            ui.message(f"Deleting 'run_volume_tags' on EBS Volumes: {', '.join(volumes)}")
            await state.aws.call("ec2", "DeleteTags", Resources=volumes, Tags=to_api_tags(run_tags))
        ui.say("Tagging EBS volumes...")
        for device in cfg.ebs_volumes:
            if not device.tags:
                ui.say(f"No tags specified for volume on {device.device_name}...")
                continue
            tags = render_tags(device.tags, [], data, info, "ebs_volumes tags")
            volume = volume_of(state.instance, device.device_name)
            if volume:
                ui.message(f"Applying tags to EBS Volume: {volume}")
                await state.aws.call("ec2", "CreateTags", Resources=[volume], Tags=to_api_tags(tags))

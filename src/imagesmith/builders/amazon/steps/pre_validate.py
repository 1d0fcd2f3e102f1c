"""StepPreValidate: fail early if an AMI already has ``ami_name`` (unless force_deregister).

Packer also calls DescribeRegions here; imagesmith checked the regions offline while validating.
"""

from __future__ import annotations

from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step, fail


class PreValidate(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepPreValidate"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        ui.say("Prevalidating any provided VPC information")
        if cfg.force_deregister or cfg.skip_save_build_region:
            ui.say("Force Deregister flag found, skipping prevalidating AMI Name")
            return
        ui.say(f"Prevalidating AMI Name: {cfg.ami_name}")
        found = await state.aws.call("ec2", "DescribeImages", Filters=[{"Name": "name", "Values": [cfg.ami_name]}])
        if found["Images"]:
            image_id = found["Images"][0]["ImageId"]
            raise fail(f"Error: AMI Name: '{cfg.ami_name}' is used by an existing AMI: {image_id}")

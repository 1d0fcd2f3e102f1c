"""StepSourceAMIInfo: find the source AMI (``source_ami`` and/or ``source_ami_filter``)."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.blocks import to_filters
from imagesmith.builders.amazon.render import make_generated_data
from imagesmith.builders.amazon.state import EbsState, SourceImage
from imagesmith.core.steps import Step, fail


def describe_params(source_ami: str, ami_filter: Any) -> dict[str, Any]:
    """DescribeImages parameters for the source AMI, as Packer sends them."""
    params: dict[str, Any] = {}
    if source_ami:
        params["ImageIds"] = [source_ami]
    if ami_filter is not None and not ami_filter.empty:
        params["Filters"] = to_filters(ami_filter.filters)
        if ami_filter.owners:
            params["Owners"] = list(ami_filter.owners)
    return params


def choose_image(images: list[dict[str, Any]], most_recent: bool) -> dict[str, Any]:
    if not images:
        raise fail("No AMI was found matching filters")
    if len(images) > 1 and not most_recent:
        raise fail(
            "Your query returned more than one result. Please try a more specific search, or set most_recent to true."
        )
    return max(images, key=lambda image: image.get("CreationDate", ""))


class SourceAmiInfo(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepSourceAMIInfo"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        ui.say("Inspecting the source AMI...")
        found = await state.aws.call("ec2", "DescribeImages", **describe_params(cfg.source_ami, cfg.source_ami_filter))
        most_recent = cfg.source_ami_filter is not None and cfg.source_ami_filter.most_recent
        image = choose_image(found["Images"], most_recent)
        ui.message(f"Found Image ID: {image['ImageId']}")
        state.source = SourceImage(
            id=image["ImageId"],
            name=image.get("Name", ""),
            creation_date=image.get("CreationDate", ""),
            owner=image.get("OwnerId", ""),
            owner_alias=image.get("ImageOwnerAlias", ""),
            tags={t["Key"]: t["Value"] for t in image.get("Tags", [])},
            root_device_type=image.get("RootDeviceType", ""),
        )
        state.generated = make_generated_data(cfg.region, state.source)

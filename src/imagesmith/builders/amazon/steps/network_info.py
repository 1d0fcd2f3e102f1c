"""StepNetworkInfo: the VPC, subnet and availability zone, from the options or their filters."""

from __future__ import annotations

import random
from typing import Any

from imagesmith.builders.amazon.blocks import to_filters
from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step, fail


def choose_subnet(subnets: list[dict[str, Any]], most_free: bool, pick_random: bool) -> dict[str, Any]:
    """Packer's choice among the subnets a filter matched (one, the most free, or a random one)."""
    if not subnets:
        raise fail("No Subnets was found matching filters")
    if len(subnets) > 1 and not (most_free or pick_random):
        raise fail(
            f"Your filter matched {len(subnets)} Subnets. Please try a more specific search, "
            "or set random or most_free to true."
        )
    if most_free:
        return max(subnets, key=lambda s: int(s.get("AvailableIpAddressCount", 0)))
    if pick_random:
        return random.choice(subnets)
    return subnets[0]


class NetworkInfo(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepNetworkInfo"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        state.vpc_id, state.subnet_id, state.availability_zone = cfg.vpc_id, cfg.subnet_id, cfg.availability_zone
        if not state.vpc_id and cfg.vpc_filter is not None and cfg.vpc_filter.filters:
            # Packer adds state=available to the filter only after building the request: not sent
            found = await state.aws.call("ec2", "DescribeVpcs", Filters=to_filters(cfg.vpc_filter.filters))
            if len(found["Vpcs"]) != 1:
                raise fail(f"Exactly one VPC should match the filter, but {len(found['Vpcs'])} VPC's was found")
            state.vpc_id = found["Vpcs"][0]["VpcId"]
            ui.message(f"Found VPC ID: {state.vpc_id}")
        if not state.subnet_id and cfg.subnet_filter is not None and cfg.subnet_filter.filters:
            filters = {**cfg.subnet_filter.filters, "state": "available"}
            if state.vpc_id:
                filters["vpc-id"] = state.vpc_id
            if state.availability_zone:
                filters["availabilityZone"] = state.availability_zone
            found = await state.aws.call("ec2", "DescribeSubnets", Filters=to_filters(filters))
            subnet = choose_subnet(found["Subnets"], cfg.subnet_filter.most_free, cfg.subnet_filter.random)
            state.subnet_id = subnet["SubnetId"]
            ui.message(f"Found Subnet ID: {state.subnet_id}")
        if state.subnet_id and not (state.availability_zone and state.vpc_id):
            found = await state.aws.call("ec2", "DescribeSubnets", SubnetIds=[state.subnet_id])
            subnet = found["Subnets"][0]
            state.availability_zone = state.availability_zone or subnet["AvailabilityZone"]
            state.vpc_id = state.vpc_id or subnet["VpcId"]

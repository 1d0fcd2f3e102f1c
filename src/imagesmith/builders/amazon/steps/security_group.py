"""StepSecurityGroup: the given groups, or a temporary one open on the communicator's port."""

from __future__ import annotations

import asyncio
import uuid

from imagesmith.builders.amazon.blocks import to_filters
from imagesmith.builders.amazon.client import AwsError
from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step, fail

DELETE_TRIES = 5


def communicator_port(state: EbsState) -> int:
    """The port opened in the group: the ssh port, 0 for ``communicator: none`` (as Packer)."""
    cfg = state.config
    return 0 if cfg.communicator == "none" else cfg.effective_ssh_port


class SecurityGroup(Step[EbsState]):
    def __init__(self) -> None:
        self.created = ""

    @property
    def name(self) -> str:
        return "StepSecurityGroup"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        given = [cfg.security_group_id] if cfg.security_group_id else list(cfg.security_group_ids)
        if not given and cfg.security_group_filter is not None and cfg.security_group_filter.filters:
            filters = dict(cfg.security_group_filter.filters)
            if state.vpc_id:
                filters["vpc-id"] = state.vpc_id
            found = await state.aws.call("ec2", "DescribeSecurityGroups", Filters=to_filters(filters))
            given = [group["GroupId"] for group in found["SecurityGroups"]]
            if not given:
                raise fail(f"No security groups found matching the filter: {filters}")
            ui.message(f"Found Security Group(s): {', '.join(given)}")
        if given:
            ui.say(f"Using specified security groups: {given}")
            state.security_group_ids = given
            return
        name = f"packer_{uuid.uuid4()}"
        ui.say(f"Creating temporary security group for this instance: {name}")

        def keep(result: dict[str, str]) -> None:
            self.created = result["GroupId"]

        await state.aws.call("ec2", "CreateSecurityGroup", on_result=keep, GroupName=name,
                             Description="Temporary group for Packer", VpcId=state.vpc_id)  # fmt: skip
        await state.aws.call("ec2", "DescribeSecurityGroups", GroupIds=[self.created])
        port = communicator_port(state)
        ui.say(f"Authorizing access to port {port} from {cfg.source_cidrs} in the temporary security groups...")
        ranges = [{"CidrIp": cidr} for cidr in cfg.source_cidrs]
        permission = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": ranges}
        await state.aws.call("ec2", "AuthorizeSecurityGroupIngress", GroupId=self.created, IpPermissions=[permission])
        state.security_group_ids = [self.created]

    async def cleanup(self, state: EbsState) -> None:
        if not self.created:
            return
        state.ctx.ui.say("Deleting temporary security group...")
        for attempt in range(DELETE_TRIES):
            try:
                await state.aws.call("ec2", "DeleteSecurityGroup", GroupId=self.created)
                break
            except AwsError as exc:  # the instance may still hold it for a moment
                if exc.code != "DependencyViolation" or attempt == DELETE_TRIES - 1:
                    raise
                await asyncio.sleep(2**attempt)
        self.created = ""

"""StepRunSourceInstance: launch the source instance, wait until it runs; terminate on cleanup."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from imagesmith.builders.amazon.render import render_tags, to_api_tags
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.wait import wait_limits, wait_until
from imagesmith.core.steps import Step, fail


def user_data(cfg: Any) -> str:
    raw = Path(cfg.user_data_file).read_bytes() if cfg.user_data_file else cfg.user_data.encode()
    return base64.b64encode(raw).decode() if raw else ""


def run_params(state: EbsState, ebs_backed: bool = True) -> dict[str, Any]:
    """RunInstances parameters, field for field what Packer 1.6.6 sends (the shutdown behaviour
    only for the EBS-backed builders: Packer sets it only when it expects an ``ebs`` root device)."""
    cfg = state.config
    info = state.ctx.info
    run_tags = {
        "Name": "Packer Builder",
        **render_tags(cfg.run_tags, cfg.run_tag, state.generated.extra, info, "run_tags"),
    }
    volume_tags = render_tags(cfg.run_volume_tags, cfg.run_volume_tag, state.generated.extra, info, "run_volume_tags")
    specs = [{"ResourceType": "instance", "Tags": to_api_tags(run_tags)}]
    if volume_tags:
        specs.append({"ResourceType": "volume", "Tags": to_api_tags(volume_tags)})
    assert state.source is not None
    params: dict[str, Any] = {
        "ImageId": state.source.id, "InstanceType": cfg.instance_type, "UserData": user_data(cfg),
        "MaxCount": 1, "MinCount": 1, "IamInstanceProfile": {"Name": state.iam_instance_profile},
        "Placement": {"AvailabilityZone": state.availability_zone}, "EbsOptimized": cfg.ebs_optimized,
        "TagSpecifications": specs,
    }  # fmt: skip
    mappings = [device.to_api() for device in cfg.launch_block_device_mappings]
    if mappings:
        params["BlockDeviceMappings"] = mappings
    if cfg.tenancy:
        params["Placement"]["Tenancy"] = cfg.tenancy
    if cfg.enable_t2_unlimited:
        params["CreditSpecification"] = {"CpuCredits": "unlimited"}
    if state.key_name:
        params["KeyName"] = state.key_name
    if cfg.associate_public_ip_address is None:
        params["SubnetId"] = state.subnet_id
        params["SecurityGroupIds"] = list(state.security_group_ids)
    else:
        params["NetworkInterfaces"] = [{
            "DeviceIndex": 0, "AssociatePublicIpAddress": cfg.associate_public_ip_address,
            "SubnetId": state.subnet_id, "Groups": list(state.security_group_ids), "DeleteOnTermination": True,
        }]  # fmt: skip
    if ebs_backed:
        params["InstanceInitiatedShutdownBehavior"] = cfg.shutdown_behavior or "stop"
    return params


async def describe_instance(state: EbsState) -> dict[str, Any]:
    found = await state.aws.call("ec2", "DescribeInstances", InstanceIds=[state.instance_id])
    instances = [i for r in found["Reservations"] for i in r["Instances"]]
    if not instances:
        raise fail(f"instance {state.instance_id} not found")
    instance: dict[str, Any] = instances[0]
    state.instance = instance
    return instance


async def instance_state(state: EbsState) -> str:
    return str((await describe_instance(state))["State"]["Name"])


class RunSourceInstance(Step[EbsState]):
    """``ebs_backed``: the source AMI must have an EBS root device (all but amazon-instance)."""

    def __init__(self, ebs_backed: bool = True) -> None:
        self.ebs_backed = ebs_backed

    @property
    def name(self) -> str:
        return "StepRunSourceInstance"

    async def run(self, state: EbsState) -> None:
        ui = state.ctx.ui
        assert state.source is not None
        if self.ebs_backed and state.source.root_device_type != "ebs":
            raise fail("The root device of the source AMI must be EBS-backed.")
        params = run_params(state, self.ebs_backed)
        ui.say("Launching a source AWS instance...")

        def keep(result: dict[str, Any]) -> None:
            state.instance_id = result["Instances"][0]["InstanceId"]

        await state.aws.call("ec2", "RunInstances", on_result=keep, **params)
        ui.message(f"Instance ID: {state.instance_id}")
        ui.say(f"Waiting for instance ({state.instance_id}) to become ready...")
        what = f"instance {state.instance_id} to be running"
        await wait_until(
            what,
            lambda: instance_state(state),
            {"running"},
            failed=frozenset({"terminated"}),
            limits=wait_limits(state.config.aws_polling),
        )
        state.volume_ids = [m["Ebs"]["VolumeId"] for m in state.instance.get("BlockDeviceMappings", []) if "Ebs" in m]

    async def cleanup(self, state: EbsState) -> None:
        if not state.instance_id:
            return
        ui = state.ctx.ui
        ui.say("Terminating the source AWS instance...")
        await state.aws.call("ec2", "TerminateInstances", InstanceIds=[state.instance_id])
        what = f"instance {state.instance_id} to be terminated"
        await wait_until(
            what, lambda: instance_state(state), {"terminated"}, limits=wait_limits(state.config.aws_polling)
        )

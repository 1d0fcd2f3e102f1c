"""StepIamInstanceProfile: check ``iam_instance_profile``, or make a temporary profile and role.

With ``temporary_iam_instance_profile_policy_document``, Packer 1.6.6 creates an instance profile
and a role of the same name ``packer-<uuid>``, puts the document on the role as an inline policy
and adds the role to the profile; the cleanup undoes each part that was done, in reverse.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from imagesmith.builders.amazon.client import AwsError
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.wait import wait_limits, wait_until
from imagesmith.core.steps import Step, fail

#: IAM is global: the client takes the build region, as Packer's session does; botocore signs for
#: us-east-1 on AWS's own endpoint, and for the build region on a custom one (as Packer does: moto saw it)
IAM_REGION = ""
ASSUME_ROLE_POLICY = (
    '{"Version": "2012-10-17","Statement": [{"Effect": "Allow","Principal": {"Service": "ec2.amazonaws.com"},'
    '"Action": "sts:AssumeRole"}]}'
)


def policy_json(document: Any) -> str:
    """The document as Go's json.Marshal writes Packer's struct: compact, fields in declaration order."""
    return json.dumps(dataclasses.asdict(document), separators=(",", ":"))


class IamInstanceProfile(Step[EbsState]):
    def __init__(self) -> None:
        self.profile = ""
        self.role = ""
        self.policy = ""
        self.attached = False

    @property
    def name(self) -> str:
        return "StepIamInstanceProfile"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        if cfg.iam_instance_profile:
            if not cfg.skip_profile_validation:
                try:
                    await state.aws.call("iam", "GetInstanceProfile", IAM_REGION,
                                         InstanceProfileName=cfg.iam_instance_profile)  # fmt: skip
                except AwsError as exc:
                    raise fail(f"Couldn't find specified instance profile: {exc}") from exc
            state.iam_instance_profile = cfg.iam_instance_profile
        elif cfg.temporary_iam_instance_profile_policy_document is not None:
            await self.make_temporary(state, policy_json(cfg.temporary_iam_instance_profile_policy_document))

    async def make_temporary(self, state: EbsState, policy: str) -> None:
        ui, aws = state.ctx.ui, state.aws
        limits = wait_limits(state.config.aws_polling)
        name = f"packer-{uuid.uuid4()}"
        ui.say(f"Creating temporary instance profile for this instance: {name}")

        def keep_profile(result: dict[str, Any]) -> None:
            self.profile = result["InstanceProfile"]["InstanceProfileName"]

        await aws.call("iam", "CreateInstanceProfile", IAM_REGION, on_result=keep_profile, InstanceProfileName=name)
        await wait_until(f"instance profile {name} to exist", lambda: self.exists(state, "GetInstanceProfile",
                         InstanceProfileName=name), {"exists"}, limits=limits)  # fmt: skip
        ui.say(f"Creating temporary role for this instance: {name}")

        def keep_role(result: dict[str, Any]) -> None:
            self.role = result["Role"]["RoleName"]

        await aws.call("iam", "CreateRole", IAM_REGION, on_result=keep_role, RoleName=name,
                       Description="Temporary role for Packer",
                       AssumeRolePolicyDocument=ASSUME_ROLE_POLICY)  # fmt: skip
        await wait_until(f"role {name} to exist", lambda: self.exists(state, "GetRole", RoleName=name), {"exists"},
                         limits=limits)  # fmt: skip
        ui.say(f"Attaching policy to the temporary role: {name}")

        def keep_policy(_: dict[str, Any]) -> None:
            self.policy = name

        await aws.call("iam", "PutRolePolicy", IAM_REGION, on_result=keep_policy, RoleName=name, PolicyName=name,
                       PolicyDocument=policy)  # fmt: skip

        def keep_attached(_: dict[str, Any]) -> None:
            self.attached = True

        await aws.call("iam", "AddRoleToInstanceProfile", IAM_REGION, on_result=keep_attached, RoleName=name,
                       InstanceProfileName=name)  # fmt: skip
        state.iam_instance_profile = name

    @staticmethod
    async def exists(state: EbsState, operation: str, **params: Any) -> str:
        try:
            await state.aws.call("iam", operation, IAM_REGION, **params)
        except AwsError as exc:
            if exc.code == "NoSuchEntity":
                return "missing"
            raise
        return "exists"

    async def cleanup(self, state: EbsState) -> None:
        """Undo what was made, each part even if an earlier one failed (as Packer); failures are reported."""
        ui = state.ctx.ui
        if self.attached:
            ui.say("Detaching temporary role from instance profile...")
            await self.undo(state, "RemoveRoleFromInstanceProfile", InstanceProfileName=self.profile,
                            RoleName=self.role)  # fmt: skip
        if self.policy:
            ui.say("Removing policy from temporary role...")
            await self.undo(state, "DeleteRolePolicy", PolicyName=self.policy, RoleName=self.role)
        if self.role:
            ui.say("Deleting temporary role...")
            await self.undo(state, "DeleteRole", RoleName=self.role)
        if self.profile:
            ui.say("Deleting temporary instance profile...")
            await self.undo(state, "DeleteInstanceProfile", InstanceProfileName=self.profile)
        self.attached, self.policy, self.role, self.profile = False, "", "", ""

    @staticmethod
    async def undo(state: EbsState, operation: str, **params: Any) -> None:
        try:
            await state.aws.call("iam", operation, IAM_REGION, **params)
        except AwsError as exc:
            state.ctx.ui.error(f"{exc}. Please delete it manually: {next(iter(params.values()))}")

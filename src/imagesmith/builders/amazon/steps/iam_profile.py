"""StepIamInstanceProfile: check that ``iam_instance_profile`` exists (unless skip_profile_validation).

The temporary profile (``temporary_iam_instance_profile_policy_document``) is not implemented yet
and is refused by the config check.
"""

from __future__ import annotations

from imagesmith.builders.amazon.client import AwsError
from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step, fail


class IamInstanceProfile(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepIamInstanceProfile"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        if not cfg.iam_instance_profile or cfg.skip_profile_validation:
            return
        try:
            await state.aws.call("iam", "GetInstanceProfile", "us-east-1", InstanceProfileName=cfg.iam_instance_profile)
        except AwsError as exc:
            raise fail(f"Couldn't find specified instance profile: {exc}") from exc

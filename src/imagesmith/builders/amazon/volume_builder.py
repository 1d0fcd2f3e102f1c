"""The amazon-ebsvolume builder: an instance whose extra EBS volumes are the artifact (Packer 1.6.6 order).

No AMI steps, no pre-validation and no left-over volume cleanup (the volumes are what it makes):
source AMI, network, key pair, security group, instance profile, instance (on-demand or spot),
volume tags, connect, provision, stop, modify.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from imagesmith.builders.amazon.builder import hook_data
from imagesmith.builders.amazon.client import Aws, AwsError, assume_role, make_session
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.cleanup_temp_keys import CleanupTempKeys
from imagesmith.builders.amazon.steps.connect import ConnectSsh
from imagesmith.builders.amazon.steps.iam_profile import IamInstanceProfile
from imagesmith.builders.amazon.steps.key_pair import KeyPair
from imagesmith.builders.amazon.steps.network_info import NetworkInfo
from imagesmith.builders.amazon.steps.run_instance import RunSourceInstance
from imagesmith.builders.amazon.steps.run_spot_instance import RunSpotInstance
from imagesmith.builders.amazon.steps.security_group import SecurityGroup
from imagesmith.builders.amazon.steps.source_ami import SourceAmiInfo
from imagesmith.builders.amazon.steps.stop_instance import ModifyInstance, StopInstance
from imagesmith.builders.amazon.steps.tag_volumes import TagEbsVolumes
from imagesmith.builders.amazon.volume_config import EbsVolumeConfig
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.provision import ProvisionStep

BUILDER_ID = "mitchellh.amazon.ebsvolume"


class VolumeArtifact(Artifact):
    """EBS volumes per region; id ``region:vol-…,…`` sorted, as Packer's."""

    builder_id = BUILDER_ID

    def __init__(self, volumes: dict[str, list[str]], aws: Aws, generated: GeneratedData) -> None:
        self.volumes = volumes
        self.aws = aws
        self.generated = generated

    def _ids(self) -> list[str]:
        return sorted(f"{region}:{vol}" for region, vols in self.volumes.items() for vol in vols)

    @property
    def id(self) -> str:
        return ",".join(self._ids())

    def __str__(self) -> str:
        return "EBS Volumes were created:\n\n" + "\n".join(self._ids())

    def state(self, name: str) -> Any:
        return self.generated if name == "generated_data" else None

    async def destroy(self) -> None:
        errors: list[str] = []
        for region, vols in sorted(self.volumes.items()):
            for vol in vols:
                try:
                    await self.aws.call("ec2", "DeleteVolume", region, VolumeId=vol)
                except AwsError as exc:
                    errors.append(str(exc))
        if errors:
            raise AwsError("ec2", "DeleteVolume", "Failed", "; ".join(errors))


class AmazonEbsVolumeBuilder(Builder):
    type_name = "amazon-ebsvolume"
    config_class = EbsVolumeConfig
    late_render = frozenset({"run_tags", "run_tag", "run_volume_tags", "run_volume_tag", "spot_tags", "spot_tag"})

    async def run(self, ctx: BuildContext) -> Artifact | None:
        from imagesmith.communicator.none import NoneCommunicator

        volume_cfg = self.config.render_volumes(ctx.info)
        cfg = volume_cfg.to_ebs_config()
        session = await asyncio.to_thread(make_session, cfg)
        aws = Aws(cfg, session)
        await assume_role(aws)
        state = EbsState(config=cfg, aws=aws, ctx=ctx)
        if cfg.communicator == "none":
            state.communicator = NoneCommunicator()
        tag_volumes = TagEbsVolumes(volume_cfg)
        steps: list[Step[EbsState] | None] = [
            SourceAmiInfo(), NetworkInfo(), KeyPair(), SecurityGroup(), IamInstanceProfile(),
            RunSpotInstance() if cfg.spot_price else RunSourceInstance(),
            tag_volumes,
            when(cfg.communicator != "none", ConnectSsh()),
            ProvisionStep[EbsState](ctx, hook_data),
            CleanupTempKeys(),
            when(not cfg.spot_price, StopInstance()),
            ModifyInstance(),
        ]  # fmt: skip
        await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        artifact = VolumeArtifact({cfg.region: tag_volumes.kept}, aws, dataclasses.replace(state.generated))
        ctx.ui.say(f"Created Volumes: {artifact}")
        return artifact

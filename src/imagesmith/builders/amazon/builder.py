"""The amazon-ebs builder: Packer 1.6.6's step list (``builder/amazon/ebs/builder.go``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

from imagesmith.builders.amazon.artifact import BUILDER_ID, AmiArtifact
from imagesmith.builders.amazon.client import Aws, assume_role, make_session
from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.cleanup_temp_keys import CleanupTempKeys
from imagesmith.builders.amazon.steps.cleanup_volumes import CleanupVolumes
from imagesmith.builders.amazon.steps.connect import ConnectSsh
from imagesmith.builders.amazon.steps.create_ami import CreateAmi
from imagesmith.builders.amazon.steps.create_tags import CreateTags
from imagesmith.builders.amazon.steps.deregister_ami import DeregisterAmi
from imagesmith.builders.amazon.steps.iam_profile import IamInstanceProfile
from imagesmith.builders.amazon.steps.key_pair import KeyPair
from imagesmith.builders.amazon.steps.modify_ami import ModifyAmiAttributes
from imagesmith.builders.amazon.steps.network_info import NetworkInfo
from imagesmith.builders.amazon.steps.pre_validate import PreValidate
from imagesmith.builders.amazon.steps.region_copy import AmiRegionCopy
from imagesmith.builders.amazon.steps.run_instance import RunSourceInstance
from imagesmith.builders.amazon.steps.run_spot_instance import RunSpotInstance
from imagesmith.builders.amazon.steps.security_group import SecurityGroup
from imagesmith.builders.amazon.steps.source_ami import SourceAmiInfo
from imagesmith.builders.amazon.steps.stop_instance import ModifyInstance, StopInstance
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, run_steps, when
from imagesmith.steps.provision import ProvisionStep

LATE_RENDER = frozenset({
    "ami_description", "run_tags", "run_tag", "run_volume_tags", "run_volume_tag",
    "spot_tags", "spot_tag", "snapshot_tags", "snapshot_tag", "tags", "tag",
})  # fmt: skip


class Succeed(Step[EbsState]):
    """Last step: the build succeeded, so the AMIs stay."""

    async def run(self, state: EbsState) -> None:
        state.succeeded = True


def hook_data(state: EbsState) -> GeneratedData:
    """The generated data provisioners see: the source AMI facts plus the instance and its connection
    (Packer's StepConnect stores ``communicator_config`` only when it connects)."""
    cfg = state.config
    comm = None
    if cfg.communicator != "none":
        comm = CommData(
            conn_type=cfg.communicator or "ssh", host=cfg.ssh_host or str(state.instance.get("PublicIpAddress", "")),
            port=cfg.effective_ssh_port, user=cfg.ssh_username, password=cfg.ssh_password,
            ssh_private_key=state.private_key, ssh_private_key_file=cfg.ssh_private_key_file,
            ssh_agent_auth=bool(cfg.ssh_agent_auth),
        )  # fmt: skip
    return dataclasses.replace(state.generated, id=state.instance_id, comm=comm)


def instance_steps(cfg: EbsConfig, ctx: BuildContext) -> list[Step[EbsState] | None]:
    """From pre-validation to the stopped, modified source instance (shared with ebssurrogate)."""
    return [
        PreValidate(),
        SourceAmiInfo(),
        NetworkInfo(),
        KeyPair(),
        SecurityGroup(),
        IamInstanceProfile(),
        CleanupVolumes(),
        RunSpotInstance() if cfg.spot_price else RunSourceInstance(),
        when(cfg.communicator != "none", ConnectSsh()),
        ProvisionStep[EbsState](ctx, hook_data),
        CleanupTempKeys(),
        when(not cfg.spot_price, StopInstance()),
    ]


def make_steps(cfg: EbsConfig, ctx: BuildContext) -> list[Step[EbsState] | None]:
    return [
        *instance_steps(cfg, ctx),
        ModifyInstance(),
        when(cfg.force_deregister, DeregisterAmi()),
        CreateAmi(),
        AmiRegionCopy(),
        ModifyAmiAttributes(),
        CreateTags(),
        Succeed(),
    ]


class AmazonEbsBuilder(Builder):
    type_name = "amazon-ebs"
    config_class: ClassVar[type] = EbsConfig
    late_render = LATE_RENDER
    builder_id = BUILDER_ID

    async def run(self, ctx: BuildContext) -> Artifact | None:
        import asyncio

        from imagesmith.communicator.none import NoneCommunicator

        cfg: EbsConfig = self.config
        if self.info.force:  # Packer: -force implies force_deregister
            cfg = dataclasses.replace(cfg, force_deregister=True)
        session = await asyncio.to_thread(make_session, cfg)
        aws = Aws(cfg, session)
        await assume_role(aws)
        state = EbsState(config=cfg, aws=aws, ctx=ctx)
        if cfg.communicator == "none":
            state.communicator = NoneCommunicator()
        steps: Sequence[Step[EbsState] | None] = self.make_steps(cfg, ctx)
        await run_steps(steps, state, ctx.ui, on_error=ctx.info.on_error, pause=ctx.pause)
        if not state.amis:
            return None
        artifact = AmiArtifact(state.amis, aws, state.generated)
        artifact.builder_id = self.builder_id
        return artifact

    def make_steps(self, cfg: EbsConfig, ctx: BuildContext) -> list[Step[EbsState] | None]:
        return make_steps(cfg, ctx)

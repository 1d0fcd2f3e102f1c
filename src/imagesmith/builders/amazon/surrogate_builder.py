"""The amazon-ebssurrogate builder: amazon-ebs's instance, then an AMI registered from volume snapshots."""

from __future__ import annotations

from imagesmith.builders.amazon.builder import AmazonEbsBuilder, Succeed, instance_steps
from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.create_tags import CreateTags
from imagesmith.builders.amazon.steps.deregister_ami import DeregisterAmi
from imagesmith.builders.amazon.steps.modify_ami import ModifyAmiAttributes
from imagesmith.builders.amazon.steps.region_copy import AmiRegionCopy
from imagesmith.builders.amazon.steps.register_ami import RegisterAmi
from imagesmith.builders.amazon.steps.snapshot_volumes import SnapshotVolumes
from imagesmith.builders.amazon.steps.stop_instance import ModifyInstance
from imagesmith.builders.amazon.surrogate_config import EbsSurrogateConfig
from imagesmith.core.plugin import BuildContext
from imagesmith.core.steps import Step, when


class AmazonEbsSurrogateBuilder(AmazonEbsBuilder):
    type_name = "amazon-ebssurrogate"
    config_class = EbsSurrogateConfig
    builder_id = "mitchellh.amazon.ebssurrogate"

    def make_steps(self, cfg: EbsConfig, ctx: BuildContext) -> list[Step[EbsState] | None]:
        return [
            *instance_steps(cfg, ctx),
            when(not cfg.spot_price, ModifyInstance()),
            SnapshotVolumes(),
            when(cfg.force_deregister, DeregisterAmi()),
            RegisterAmi(),
            AmiRegionCopy(),
            ModifyAmiAttributes(),
            CreateTags(),
            Succeed(),
        ]

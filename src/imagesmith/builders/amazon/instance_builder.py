"""The amazon-instance builder: an instance-store AMI bundled in the guest (Packer 1.6.6's step list,
``builder/amazon/instance/builder.go``).

amazon-ebs's steps up to provisioning (no left-over volume cleanup, no stop: the instance keeps
running while its root volume is bundled), then the X.509 upload, ec2-bundle-vol and
ec2-upload-bundle in the guest, RegisterImage with the manifest's S3 location, and amazon-ebs's
copies, attributes and tags.
"""

from __future__ import annotations

import dataclasses

from imagesmith.builders.amazon.builder import LATE_RENDER, AmazonEbsBuilder, Succeed, hook_data
from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.builders.amazon.instance_config import InstanceConfig
from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.bundle_volume import BundleVolume
from imagesmith.builders.amazon.steps.cleanup_temp_keys import CleanupTempKeys
from imagesmith.builders.amazon.steps.connect import ConnectSsh
from imagesmith.builders.amazon.steps.create_tags import CreateTags
from imagesmith.builders.amazon.steps.deregister_ami import DeregisterAmi
from imagesmith.builders.amazon.steps.iam_profile import IamInstanceProfile
from imagesmith.builders.amazon.steps.key_pair import KeyPair
from imagesmith.builders.amazon.steps.modify_ami import ModifyAmiAttributes
from imagesmith.builders.amazon.steps.network_info import NetworkInfo
from imagesmith.builders.amazon.steps.pre_validate import PreValidate
from imagesmith.builders.amazon.steps.region_copy import AmiRegionCopy
from imagesmith.builders.amazon.steps.register_bundle import RegisterBundle
from imagesmith.builders.amazon.steps.run_instance import RunSourceInstance
from imagesmith.builders.amazon.steps.run_spot_instance import RunSpotInstance
from imagesmith.builders.amazon.steps.security_group import SecurityGroup
from imagesmith.builders.amazon.steps.source_ami import SourceAmiInfo
from imagesmith.builders.amazon.steps.upload_bundle import UploadBundle
from imagesmith.builders.amazon.steps.upload_x509 import UploadX509Cert
from imagesmith.core.plugin import Artifact, BuildContext
from imagesmith.core.render import render_runtime
from imagesmith.core.steps import Step, when
from imagesmith.steps.provision import ProvisionStep


class AmazonInstanceBuilder(AmazonEbsBuilder):
    type_name = "amazon-instance"
    config_class = InstanceConfig
    builder_id = "mitchellh.amazon.instance"
    late_render = LATE_RENDER | {"bundle_vol_command", "bundle_upload_command", "bundle_prefix"}

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: InstanceConfig = self.config.with_defaults()
        prefix = render_runtime(cfg.bundle_prefix, self.info, None, error="Error rendering bundle_prefix: ")
        self.config = dataclasses.replace(cfg, bundle_prefix=prefix)
        return await super().run(ctx)

    def make_steps(self, cfg: EbsConfig, ctx: BuildContext) -> list[Step[EbsState] | None]:
        return [
            PreValidate(),
            SourceAmiInfo(),
            NetworkInfo(),
            KeyPair(),
            SecurityGroup(),
            IamInstanceProfile(),
            RunSpotInstance(ebs_backed=False) if cfg.spot_price else RunSourceInstance(ebs_backed=False),
            when(cfg.communicator != "none", ConnectSsh()),
            ProvisionStep[EbsState](ctx, hook_data),
            CleanupTempKeys(),
            UploadX509Cert(),
            BundleVolume(),
            UploadBundle(),
            when(cfg.force_deregister, DeregisterAmi()),
            RegisterBundle(),
            AmiRegionCopy(),
            ModifyAmiAttributes(),
            CreateTags(),
            Succeed(),
        ]

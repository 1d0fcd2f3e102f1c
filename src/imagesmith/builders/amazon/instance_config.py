"""The amazon-instance configuration (Packer 1.6.6 ``builder/amazon/instance``).

amazon-ebs's access, AMI and run options plus the bundle: ``account_id``, ``s3_bucket``, the X.509
certificate and key (uploaded to ``x509_upload_path`` in the guest), ``bundle_destination``,
``bundle_prefix`` and the two guest commands. Packer's defaults for the commands run the EC2 AMI
tools (ec2-bundle-vol, ec2-upload-bundle) through ``sudo -i -n``; the upload command passes the
access and secret key unless an ``iam_instance_profile`` gives the instance its own.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.template.decode import option

DEFAULT_BUNDLE_PREFIX = "image-{{timestamp}}"
BUNDLE_VOL_COMMAND = (
    "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} -r {{.Architecture}} "
    "-e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter"
)
UPLOAD_WITH_PROFILE = (
    "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -d {{.BundleDirectory}} "
    "--batch --region {{.Region}} --retry"
)
UPLOAD_WITH_KEYS = (
    "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -a {{.AccessKey}} -s {{.SecretKey}} "
    "-d {{.BundleDirectory}} --batch --region {{.Region}} --retry"
)
#: amazon-ebs keys that amazon-instance does not have
_NOT_INSTANCE_KEYS = ("run_volume_tags", "run_volume_tag", "no_ephemeral", "disable_stop_instance")


@dataclass(frozen=True)
class InstanceConfig(EbsConfig):
    """One ``"type": "amazon-instance"`` builder block."""

    account_id: str = option("")
    s3_bucket: str = option("")
    x509_cert_path: str = option("")
    x509_key_path: str = option("")
    x509_upload_path: str = option("")
    bundle_destination: str = option("")
    #: rendered when the build starts (its default holds ``{{timestamp}}``)
    bundle_prefix: str = option("", render=False)
    bundle_vol_command: str = option("", render=False)
    bundle_upload_command: str = option("", render=False)

    @property
    def account(self) -> str:
        """``account_id`` without dashes, as Packer passes it to ec2-bundle-vol."""
        return self.account_id.replace("-", "")

    def with_defaults(self) -> InstanceConfig:
        """Packer's defaults for the bundle options (the prefix still unrendered)."""
        upload = UPLOAD_WITH_PROFILE if self.iam_instance_profile else UPLOAD_WITH_KEYS
        return dataclasses.replace(
            self,
            bundle_destination=self.bundle_destination or "/tmp",
            bundle_prefix=self.bundle_prefix or DEFAULT_BUNDLE_PREFIX,
            bundle_vol_command=self.bundle_vol_command or BUNDLE_VOL_COMMAND,
            bundle_upload_command=self.bundle_upload_command or upload,
            x509_upload_path=self.x509_upload_path or "/tmp",
        )

    def check(self) -> Iterator[str]:
        yield from super().check()
        for key in _NOT_INSTANCE_KEYS:
            if getattr(self, key):
                yield f"unknown configuration key: {key!r} (amazon-instance has no such option)"
        if self.communicator == "none":
            yield "amazon-instance needs a communicator: it bundles the volume in the guest over it"
        if not self.account_id:
            yield "account_id is required"
        if not self.s3_bucket:
            yield "s3_bucket is required"
        for key in ("x509_cert_path", "x509_key_path"):
            path = getattr(self, key)
            if not path:
                yield f"{key} is required"
            elif not os.path.exists(path):
                yield f"{key} points to bad file: stat {path}: no such file or directory"
        if self.spot_price and (self.ena_support or self.sriov_support):
            yield (
                "Spot instances do not support modification, which is required when either `ena_support` or "
                "`sriov_support` are set. Please ensure you use an AMI that already has either SR-IOV or ENA enabled."
            )

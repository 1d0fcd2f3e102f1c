"""What the amazon-ebs steps hand each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from imagesmith.builders.amazon.client import Aws
from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildContext, Communicator


@dataclass
class SourceImage:
    """The source AMI as DescribeImages returned it (the fields the build uses)."""

    id: str
    name: str
    creation_date: str
    owner: str
    owner_alias: str
    tags: dict[str, str]
    root_device_type: str


@dataclass
class BundleState:
    """What amazon-instance's bundle steps hand each other (Packer's state bag keys)."""

    cert_path: str = ""
    key_path: str = ""
    manifest_name: str = ""
    manifest_path: str = ""
    remote_manifest_path: str = ""


@dataclass
class EbsState:
    config: EbsConfig
    aws: Aws
    ctx: BuildContext
    source: SourceImage | None = None
    vpc_id: str = ""
    subnet_id: str = ""
    availability_zone: str = ""
    #: the given instance profile or the temporary one
    iam_instance_profile: str = ""
    key_name: str = ""
    private_key: str = ""
    security_group_ids: list[str] = field(default_factory=list)
    instance_id: str = ""
    instance: dict[str, Any] = field(default_factory=dict)
    volume_ids: list[str] = field(default_factory=list)
    communicator: Communicator | None = None
    #: region → AMI id: the build region's first, then the copies
    amis: dict[str, str] = field(default_factory=dict)
    #: amazon-ebssurrogate: launch device name → snapshot of its volume
    device_snapshots: dict[str, str] = field(default_factory=dict)
    #: region → snapshot ids of that region's AMI
    snapshots: dict[str, list[str]] = field(default_factory=dict)
    #: amazon-instance: the uploaded x509 files, the bundle's local manifest, its S3 location
    bundle: BundleState = field(default_factory=lambda: BundleState())
    generated: GeneratedData = field(default_factory=GeneratedData)
    #: set by the last step: cleanups keep what the build made
    succeeded: bool = False

    @property
    def region(self) -> str:
        return self.config.region

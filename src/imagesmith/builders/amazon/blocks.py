"""The nested option blocks of the amazon builders (Packer 1.6.6 ``builder/amazon/common``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imagesmith.template.decode import option


@dataclass(frozen=True)
class BlockDevice:
    """One entry of ``launch_block_device_mappings`` / ``ami_block_device_mappings``."""

    device_name: str = option("")
    delete_on_termination: bool = option(False)
    encrypted: bool | None = option(None)
    iops: int = option(0)
    no_device: bool = option(False)
    snapshot_id: str = option("")
    throughput: int = option(0)
    virtual_name: str = option("")
    volume_type: str = option("")
    volume_size: int = option(0)
    kms_key_id: str = option("")

    def check(self) -> Iterator[str]:
        if not self.device_name:
            yield "The `device_name` must be specified for every device in the block device mapping."
        if self.kms_key_id and not self.encrypted:
            yield "The device %v, must also have `encrypted: true` when setting a kms_key_id.".replace(
                "%v", self.device_name
            )
        if self.volume_type in ("io1", "io2") and not self.iops:
            yield f"You must specify iops for the {self.volume_type} volume type."

    def to_api(self) -> dict[str, Any]:
        """The EC2 ``BlockDeviceMapping``, as Packer 1.6.6 builds it (a non-ephemeral virtual name is dropped)."""
        out: dict[str, Any] = {"DeviceName": self.device_name}
        if self.no_device:
            out["NoDevice"] = ""
            return out
        if self.virtual_name:
            if self.virtual_name.startswith("ephemeral"):
                out["VirtualName"] = self.virtual_name
            return out
        ebs: dict[str, Any] = {"DeleteOnTermination": self.delete_on_termination}
        if self.volume_type:
            ebs["VolumeType"] = self.volume_type
        if self.volume_size > 0:
            ebs["VolumeSize"] = self.volume_size
        if self.volume_type in ("io1", "io2", "gp3"):
            ebs["Iops"] = self.iops
        if self.volume_type == "gp3":
            ebs["Throughput"] = self.throughput
        if self.snapshot_id:
            ebs["SnapshotId"] = self.snapshot_id
        if self.encrypted is not None:
            ebs["Encrypted"] = self.encrypted
        if self.kms_key_id:
            ebs["KmsKeyId"] = self.kms_key_id
        out["Ebs"] = ebs
        return out


@dataclass(frozen=True)
class KeyValue:
    """The singular ``tag``/``run_tag``/``spot_tag`` blocks (HCL2 form, also accepted in JSON)."""

    key: str = option("")
    value: str = option("")


@dataclass(frozen=True)
class NameValue:
    """``run_volume_tag`` blocks."""

    name: str = option("")
    value: str = option("")


@dataclass(frozen=True)
class AmiFilter:
    """``source_ami_filter``."""

    filters: dict[str, str] = option(factory=dict)
    owners: list[str] = option(factory=list)
    most_recent: bool = option(False)

    @property
    def empty(self) -> bool:
        return not self.filters and not self.owners


@dataclass(frozen=True)
class Filter:
    """``vpc_filter`` / ``security_group_filter``."""

    filters: dict[str, str] = option(factory=dict)


@dataclass(frozen=True)
class SubnetFilter:
    filters: dict[str, str] = option(factory=dict)
    most_free: bool = option(False)
    random: bool = option(False)


@dataclass(frozen=True)
class AssumeRole:
    role_arn: str = option("")
    duration_seconds: int = option(0)
    external_id: str = option("")
    policy: str = option("")
    policy_arns: list[str] = option(factory=list)
    session_name: str = option("")
    tags: dict[str, str] = option(factory=dict)
    transitive_tag_keys: list[str] = option(factory=list)


@dataclass(frozen=True)
class VaultAwsEngine:
    name: str = option("")
    role_arn: str = option("")
    ttl: str = option("")
    engine_name: str = option("")


@dataclass(frozen=True)
class Polling:
    """``aws_polling``: Packer's fixed waiter delay and attempts; imagesmith's bounds (see wait.wait_limits)."""

    delay_seconds: int = option(0)
    max_attempts: int = option(0)


@dataclass(frozen=True)
class Statement:
    Effect: str = option("")
    Action: list[str] = option(factory=list)
    Resource: list[str] = option(factory=list)


@dataclass(frozen=True)
class PolicyDocument:
    Version: str = option("")
    Statement: list[Statement] = option(factory=list)


def to_filters(filters: dict[str, str]) -> list[dict[str, Any]]:
    """EC2 ``Filters`` from a name → value map, sorted by name (Packer's order is a Go map's: random)."""
    return [{"Name": name, "Values": [value]} for name, value in sorted(filters.items())]

"""The amazon-ebs configuration: every Packer 1.6.6 key (``builder/amazon/ebs`` and ``common``).

Options that Packer renders at run time (``ami_description`` and the tag maps, which may use
``{{ .SourceAMIName }}``, ``{{ .BuildRegion }}``, ...) are kept raw here (``render=False``) and
rendered by :func:`imagesmith.builders.amazon.render.render_late`. Regions are checked offline
(see :mod:`.regions`). Options imagesmith decodes but cannot run yet are refused by ``check``
with a message saying so, never silently ignored.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.builders.amazon.blocks import (
    AmiFilter,
    AssumeRole,
    BlockDevice,
    Filter,
    KeyValue,
    NameValue,
    PolicyDocument,
    Polling,
    SubnetFilter,
    VaultAwsEngine,
)
from imagesmith.builders.amazon.regions import check_region
from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.template.decode import option
from imagesmith.template.values import Duration

SSH_INTERFACES = ("", "public_ip", "private_ip", "public_dns", "private_dns", "session_manager")
_AMI_NAME_OK = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]*$")
_KMS_KEY = re.compile(
    r"^(?:[a-f0-9-]+|alias/[a-zA-Z0-9:/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]*:\d{12}:(?:key/[a-f0-9-]+|alias/[a-zA-Z0-9:/_-]+))$"
)


@dataclass(frozen=True)
class AccessConfig:
    """Credentials, region and endpoint (Packer's ``AccessConfig``)."""

    access_key: str = option("")
    secret_key: str = option("")
    token: str = option("")
    profile: str = option("")
    shared_credentials_file: str = option("")
    region: str = option("")
    custom_endpoint_ec2: str = option("")
    skip_region_validation: bool = option(False)
    skip_credential_validation: bool = option(False)
    skip_metadata_api_check: bool = option(False)
    insecure_skip_tls_verify: bool = option(False)
    decode_authorization_messages: bool = option(False)
    max_retries: int = option(0)
    mfa_code: str = option("")
    assume_role: AssumeRole | None = option(None)
    vault_aws_engine: VaultAwsEngine | None = option(None)
    aws_polling: Polling | None = option(None)


@dataclass(frozen=True)
class AmiConfig:
    """What the AMI becomes (Packer's ``AMIConfig``)."""

    ami_name: str = option("")
    ami_description: str = option("", render=False)
    ami_virtualization_type: str = option("")
    ami_users: list[str] = option(factory=list)
    ami_groups: list[str] = option(factory=list)
    ami_product_codes: list[str] = option(factory=list)
    ami_regions: list[str] = option(factory=list)
    tags: dict[str, str] = option(factory=dict, render=False)
    tag: list[KeyValue] = option(factory=list, render=False)
    ena_support: bool | None = option(None)
    sriov_support: bool = option(False)
    force_deregister: bool = option(False)
    force_delete_snapshot: bool = option(False)
    encrypt_boot: bool | None = option(None)
    kms_key_id: str = option("")
    region_kms_key_ids: dict[str, str] = option(factory=dict)
    skip_save_build_region: bool = option(False)
    snapshot_tags: dict[str, str] = option(factory=dict, render=False)
    snapshot_tag: list[KeyValue] = option(factory=list, render=False)
    snapshot_users: list[str] = option(factory=list)
    snapshot_groups: list[str] = option(factory=list)


@dataclass(frozen=True)
class RunConfig:
    """The source instance (Packer's ``RunConfig``)."""

    associate_public_ip_address: bool | None = option(None)
    availability_zone: str = option("")
    block_duration_minutes: int = option(0)
    disable_stop_instance: bool = option(False)
    ebs_optimized: bool = option(False)
    enable_t2_unlimited: bool = option(False)
    iam_instance_profile: str = option("")
    skip_profile_validation: bool = option(False)
    temporary_iam_instance_profile_policy_document: PolicyDocument | None = option(None)
    shutdown_behavior: str = option("")
    instance_type: str = option("")
    security_group_filter: Filter | None = option(None)
    run_tags: dict[str, str] = option(factory=dict, render=False)
    run_tag: list[KeyValue] = option(factory=list, render=False)
    security_group_id: str = option("")
    security_group_ids: list[str] = option(factory=list)
    source_ami: str = option("")
    source_ami_filter: AmiFilter | None = option(None)
    spot_instance_types: list[str] = option(factory=list)
    spot_price: str = option("")
    spot_price_auto_product: str = option("")
    spot_tags: dict[str, str] = option(factory=dict, render=False)
    spot_tag: list[KeyValue] = option(factory=list, render=False)
    subnet_filter: SubnetFilter | None = option(None)
    subnet_id: str = option("")
    tenancy: str = option("")
    temporary_security_group_source_cidrs: list[str] = option(factory=list)
    user_data: str = option("")
    user_data_file: str = option("")
    vpc_filter: Filter | None = option(None)
    vpc_id: str = option("")
    windows_password_timeout: Duration = option(Duration(0))
    ssh_interface: str = option("")
    pause_before_ssm: Duration = option(Duration(0))
    session_manager_port: int = option(0)
    # communicator: keys Packer's amazon builders add to the generic ones
    ssh_private_key: str = option("")
    ssh_public_key: str = option("")


@dataclass(frozen=True)
class EbsConfig(CommunicatorConfig, AccessConfig, AmiConfig, RunConfig):
    """One ``"type": "amazon-ebs"`` builder block."""

    ami_block_device_mappings: list[BlockDevice] = option(factory=list)
    launch_block_device_mappings: list[BlockDevice] = option(factory=list)
    run_volume_tags: dict[str, str] = option(factory=dict, render=False)
    run_volume_tag: list[NameValue] = option(factory=list, render=False)
    no_ephemeral: bool = option(False)

    @property
    def source_cidrs(self) -> list[str]:
        return self.temporary_security_group_source_cidrs or ["0.0.0.0/0"]

    @property
    def uses_temporary_key(self) -> bool:
        """Packer creates a key pair unless given one, a private key file or a password."""
        return not (self.ssh_keypair_name or self.ssh_private_key_file or self.ssh_password)

    def check(self) -> Iterator[str]:
        yield from self.check_communicator()
        yield from self._check_access()
        yield from self._check_ami()
        yield from self._check_run()
        yield from self._check_unsupported()

    def _check_access(self) -> Iterator[str]:
        if bool(self.access_key) != bool(self.secret_key):
            yield "access_key and secret_key must both be set, or neither"
        if not self.region:
            yield "region must be specified"
        if self.skip_region_validation:
            return
        if self.region:
            yield from check_region(self.region)
        for region in self.ami_regions:
            yield from check_region(region, "ami_regions")

    def _check_ami(self) -> Iterator[str]:
        if not self.ami_name:
            yield "ami_name must be specified"
        elif not 3 <= len(self.ami_name) <= 128:
            yield "ami_name must be between 3 and 128 characters long"
        elif not _AMI_NAME_OK.match(self.ami_name):
            yield (
                "AMIName should only contain alphanumeric characters, parentheses (()), square brackets ([]), "
                "spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or "
                "underscores(_). You can use the `clean_resource_name` template filter to automatically "
                "clean your ami name."
            )
        for region in self.region_kms_key_ids:
            if region not in self.ami_regions:
                yield f"Region {region} is in region_kms_key_ids but not in ami_regions"
        keys = [k for k in [self.kms_key_id, *self.region_kms_key_ids.values()] if k]
        if keys and not self.encrypt_boot:
            yield "If you have set either region_kms_key_ids or kms_key_id, encrypt_boot must also be true."
        for key in keys:
            if not _KMS_KEY.match(key):
                yield f"{key!r} is not a valid KMS Key Id."
        if self.ami_users and self.encrypt_boot and not self.kms_key_id:
            yield "Cannot share AMI encrypted with default KMS key"
        if self.snapshot_users and self.encrypt_boot and not self.kms_key_id and not self.region_kms_key_ids:
            yield "Cannot share snapshot encrypted with default KMS key"
        for device in [*self.ami_block_device_mappings, *self.launch_block_device_mappings]:
            yield from device.check()

    def _check_run(self) -> Iterator[str]:
        if not self.source_ami and (self.source_ami_filter is None or self.source_ami_filter.empty):
            yield "A source_ami or source_ami_filter must be specified"
        elif not self.source_ami and self.source_ami_filter is not None and not self.source_ami_filter.owners:
            yield "For security reasons, your source AMI filter must declare an owner."
        if not self.instance_type and not self.spot_instance_types:
            yield "either instance_type or spot_instance_types must be specified"
        if self.instance_type and self.spot_instance_types:
            yield "either instance_type or spot_instance_types must be specified, not both"
        if self.ssh_interface not in SSH_INTERFACES:
            yield f"Unknown interface type: {self.ssh_interface}"
        if self.ssh_keypair_name and not self.ssh_private_key_file and not self.ssh_agent_auth:
            yield "ssh_private_key_file must be provided or ssh_agent_auth enabled when ssh_keypair_name is specified."
        if self.user_data and self.user_data_file:
            yield "Only one of user_data or user_data_file can be specified."
        elif self.user_data_file and not os.path.exists(self.user_data_file):
            yield f"user_data_file not found: {self.user_data_file}"
        if self.security_group_id and self.security_group_ids:
            yield "Only one of security_group_id or security_group_ids can be specified."
        for cidr in self.temporary_security_group_source_cidrs:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                yield f"Error parsing CIDR in temporary_security_group_source_cidrs: {exc}"
        if self.shutdown_behavior not in ("", "stop", "terminate"):
            yield "shutdown_behavior only accepts 'stop' or 'terminate' values."
        if self.tenancy not in ("", "default", "dedicated", "host"):
            yield f"Error: Unknown tenancy type {self.tenancy}"
        if (self.spot_tags or self.spot_tag) and not self.spot_price:
            yield "spot_tags should not be set when not requesting a spot instance"
        if self.block_duration_minutes % 60:
            yield "block_duration_minutes must be multiple of 60"
        if self.enable_t2_unlimited and self.instance_type.split(".")[0] != "t2":
            yield f"Error: T2 Unlimited enabled with a non-T2 Instance Type: {self.instance_type}"

    def _check_unsupported(self) -> Iterator[str]:
        """Options decoded but not run by imagesmith yet: refused, never silently ignored."""
        later = {
            "vault_aws_engine": self.vault_aws_engine,
            "mfa_code": self.mfa_code,
            "no_ephemeral": self.no_ephemeral,
        }
        for key, value in later.items():
            if value:
                yield f"{key} is not supported by imagesmith's amazon-ebs yet"
        if self.ssh_interface == "session_manager":
            yield "ssh_interface session_manager is not supported by imagesmith (moto has no ssm StartSession)"
        if self.communicator == "winrm":
            yield "the winrm communicator is not supported by imagesmith yet"

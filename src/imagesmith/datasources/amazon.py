"""The ``amazon-ami``, ``amazon-parameterstore`` and ``amazon-secretsmanager`` data sources.

They are current Packer's Amazon plugin's. All three talk to AWS through the amazon builders' own
client (:mod:`imagesmith.builders.amazon.client`: one botocore session, the trimmed service models,
every credential registered with the secret filter) and take the builders' access configuration
(keys, ``profile``, ``region``, ``custom_endpoint_ec2``, ``assume_role``, ...). ``amazon-ami``
finds its image exactly as the builders' ``source_ami_filter`` does (same DescribeImages
parameters, same "more than one result" rule).
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from imagesmith.builders.amazon.blocks import AmiFilter
from imagesmith.builders.amazon.config import AccessConfig
from imagesmith.builders.amazon.regions import check_region
from imagesmith.datasources import DataSource, DataSourceError, run_blocking
from imagesmith.errors import ImagesmithError
from imagesmith.template.decode import option


def _check_access(config: AccessConfig) -> Iterator[str]:
    if config.region and not config.skip_region_validation:
        yield from check_region(config.region)


def _resolved(config: Any) -> Any:
    """``config`` with the region the Go SDK would use when the template names none."""
    region = config.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    if not region:
        raise DataSourceError("no AWS region: set region in the data source, or AWS_REGION")
    return dataclasses.replace(config, region=region)


async def _call(config: AccessConfig, service: str, operation: str, **params: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]

    from imagesmith.builders.amazon.client import Aws, assume_role, make_session

    try:  # the session and client are made outside the client's call wrapper: a bad profile or endpoint
        aws = Aws(config, make_session(config))
        await assume_role(aws)
        return await aws.call(service, operation, **params)
    except (BotoCoreError, ValueError) as exc:
        raise DataSourceError(f"AWS {service}: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class AmiDataConfig(AccessConfig):
    """``data "amazon-ami"``: the access configuration and the AMI filter options."""

    filters: dict[str, str] = option(factory=dict)
    owners: list[str] = option(factory=list)
    most_recent: bool = option(False)
    include_deprecated: bool = option(False)

    def check(self) -> Iterator[str]:
        yield from _check_access(self)
        if not self.filters and not self.owners:
            yield "The `filters` must be specified"
        if not self.owners:
            yield "For security reasons, you must declare an owner."


class AmazonAmi(DataSource):
    """The one AMI matching ``filters`` and ``owners`` (the newest with ``most_recent``)."""

    config_class = AmiDataConfig
    output_types: ClassVar[Mapping[str, str]] = {
        **dict.fromkeys(("id", "name", "creation_date", "owner", "owner_name", "root_device_name",
                         "root_device_type", "virtualization_type", "architecture"), "string"),
        "tags": "map(string)",
    }  # fmt: skip

    def execute(self) -> Mapping[str, Any]:
        from imagesmith.builders.amazon.steps.source_ami import choose_image, describe_params

        config: AmiDataConfig = _resolved(self.config)
        params = describe_params("", AmiFilter(config.filters, config.owners, config.most_recent))
        if config.include_deprecated:
            params["IncludeDeprecated"] = True
        try:
            found = run_blocking(_call(config, "ec2", "DescribeImages", **params))
            image = choose_image(found["Images"], config.most_recent)
        except ImagesmithError as exc:
            raise DataSourceError(str(exc)) from None
        return {
            "id": image["ImageId"],
            "name": image.get("Name", ""),
            "creation_date": image.get("CreationDate", ""),
            "owner": image.get("OwnerId", ""),
            "owner_name": image.get("ImageOwnerAlias", ""),
            "root_device_name": image.get("RootDeviceName", ""),
            "root_device_type": image.get("RootDeviceType", ""),
            "virtualization_type": image.get("VirtualizationType", ""),
            "architecture": image.get("Architecture", ""),
            "tags": {t["Key"]: t["Value"] for t in image.get("Tags", [])},
        }


@dataclass(frozen=True)
class SecretDataConfig(AccessConfig):
    """``data "amazon-secretsmanager"``: which secret version, and the access configuration."""

    name: str = option("")
    key: str = option("")
    version_id: str = option("")
    version_stage: str = option("")

    def check(self) -> Iterator[str]:
        yield from _check_access(self)
        if not self.name:
            yield "a 'name' must be provided"


class AmazonSecretsManager(DataSource):
    """A Secrets Manager secret version; every output but ``version_id`` is sensitive."""

    config_class = SecretDataConfig
    output_types: ClassVar[Mapping[str, str]] = dict.fromkeys(
        ("value", "secret_string", "secret_binary", "version_id"), "string"
    )
    sensitive_outputs = frozenset({"value", "secret_string", "secret_binary"})

    def execute(self) -> Mapping[str, Any]:
        config: SecretDataConfig = _resolved(self.config)
        params: dict[str, Any] = {"SecretId": config.name}
        if config.version_id:  # overrides version_stage, as in Packer
            params["VersionId"] = version = config.version_id
        else:
            params["VersionStage"] = version = config.version_stage or "AWSCURRENT"
        try:
            secret = run_blocking(_call(config, "secretsmanager", "GetSecretValue", **params))
        except ImagesmithError as exc:
            if "ResourceNotFoundException" in str(exc):
                raise DataSourceError(f"Secrets Manager Secret {config.name!r} Version {version!r} not found") from None
            raise DataSourceError(f"error reading Secrets Manager Secret Version: {exc}") from None
        text = secret.get("SecretString") or ""
        binary = secret.get("SecretBinary") or b""
        return {
            "value": pick_value(text, config.key),
            "secret_string": text,
            "secret_binary": base64.b64encode(binary).decode() if binary else "",
            "version_id": secret.get("VersionId", ""),
        }


def pick_value(text: str, key: str) -> str:
    """Packer's ``value``: plaintext as is; from a JSON object, ``key``'s value (the first without a key)."""
    import json

    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if not isinstance(parsed, dict):
        return text
    picked = parsed.get(key, "") if key else next(iter(parsed.values()), "")
    if isinstance(picked, bool) or not isinstance(picked, (str, int, float)):
        raise DataSourceError(f"error to get secret value: unsupported secret value type {type(picked).__name__}")
    return picked if isinstance(picked, str) else f"{picked:.0f}"


@dataclass(frozen=True)
class ParameterDataConfig(AccessConfig):
    """``data "amazon-parameterstore"``: which SSM parameter, and the access configuration."""

    name: str = option("")
    with_decryption: bool = option(False)

    def check(self) -> Iterator[str]:
        yield from _check_access(self)
        if not self.name:
            yield "a 'name' must be provided"


class AmazonParameterStore(DataSource):
    """An SSM Parameter Store parameter: ``value``, ``version`` and ``arn``.

    ``value`` is sensitive when the parameter is a ``SecureString`` (Packer marks nothing).
    """

    config_class = ParameterDataConfig
    output_types: ClassVar[Mapping[str, str]] = dict.fromkeys(("value", "version", "arn"), "string")

    def execute(self) -> Mapping[str, Any]:
        config: ParameterDataConfig = _resolved(self.config)
        param = get_parameter(config, config.name, config.with_decryption)
        if param.get("Type") == "SecureString":
            self.marked.add("value")
        return {"value": param.get("Value", ""), "version": str(param.get("Version", 0)), "arn": param.get("ARN", "")}


def get_parameter(config: AccessConfig, name: str, with_decryption: bool) -> dict[str, Any]:
    """SSM GetParameter's ``Parameter``, with Packer's messages for a missing parameter or version."""
    try:
        found = run_blocking(_call(config, "ssm", "GetParameter", Name=name, WithDecryption=with_decryption))
    except ImagesmithError as exc:
        if "ParameterNotFound" in str(exc):
            raise DataSourceError(f"The parameter name {name!r} not found") from None
        if "ParameterVersionNotFound" in str(exc):
            raise DataSourceError(f"The parameter version {name!r} not found") from None
        raise DataSourceError(f"error to get parameter value: {exc}") from None
    param: dict[str, Any] = found["Parameter"]
    return param

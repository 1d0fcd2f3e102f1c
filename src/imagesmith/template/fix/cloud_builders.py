"""Fixers for cloud builders: amazon, azure, scaleway, vsphere, and image-name template functions."""

from __future__ import annotations

import json
import re
from typing import Any

from imagesmith.template.fix.mapdecode import (
    Builder,
    FixError,
    Template,
    fix_builders,
    fix_builders_of_type,
    go_kind,
    rename_key,
)

_CREATE_TIME = re.compile(r"{{[\t\n\f\r ]*\.CreateTime[\t\n\f\r ]*}}")  # Go's \s is ASCII-only
_CLEAN_NAME = re.compile(r"clean_(image|ami)_name")
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_SPOT_BUILDERS = ("amazon-ebs", "amazon-ebssurrogate", "amazon-ebsvolume", "amazon-instance")


def _is_amazon(kind: str) -> bool:
    return kind.startswith("amazon-")


def fix_create_time(template: Template) -> Template:
    """``{{ .CreateTime }}`` in ``ami_name``, ``bundle_prefix`` and ``snapshot_name`` becomes ``{{timestamp}}``."""

    def change(builder: Builder, where: str) -> None:
        for key in ("ami_name", "bundle_prefix", "snapshot_name"):
            value = builder.get(key)
            if isinstance(value, str):
                builder[key] = _CREATE_TIME.sub("{{timestamp}}", value)

    return fix_builders(template, change)


def fix_clean_image_name(template: Template) -> Template:
    """``clean_image_name``/``clean_ami_name`` become ``clean_resource_name`` in builder strings.

    Top-level string values and string values of nested objects are rewritten. Improvement: Packer
    1.6.6 crashes when ``image_labels`` is neither a string nor an object; it is left alone here.
    """

    def change(builder: Builder, where: str) -> None:
        for key, value in builder.items():
            if isinstance(value, str):
                builder[key] = _CLEAN_NAME.sub("clean_resource_name", value)
            elif isinstance(value, dict):
                for inner, text in value.items():
                    if isinstance(text, str):
                        value[inner] = _CLEAN_NAME.sub("clean_resource_name", text)

    return fix_builders(template, change)


def fix_amazon_shutdown_behavior(template: Template) -> Template:
    """Amazon builders: ``shutdown_behaviour`` becomes ``shutdown_behavior``."""
    return fix_builders_of_type(
        template, _is_amazon, lambda builder, where: rename_key(builder, "shutdown_behaviour", "shutdown_behavior")
    )


def fix_amazon_enhanced_networking(template: Template) -> Template:
    """Amazon builders: boolean ``enhanced_networking`` becomes ``ena_support``."""

    def change(builder: Builder, where: str) -> None:
        if isinstance(builder.get("enhanced_networking"), bool):
            builder["ena_support"] = builder.pop("enhanced_networking")

    return fix_builders_of_type(template, _is_amazon, change)


def _parse_go_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):  # Packer 1.6.6 crashes here
        raise FixError(f"{where}.ssh_private_ip: expected a boolean, got {go_kind(value)}")
    if value in _GO_TRUE or value in _GO_FALSE:
        return value in _GO_TRUE
    quoted = json.dumps(value, ensure_ascii=False)
    raise FixError(f"ssh_private_ip is not a boolean, strconv.ParseBool: parsing {quoted}: invalid syntax")


def fix_amazon_private_ip(template: Template) -> Template:
    """Amazon builders: ``ssh_private_ip`` becomes ``ssh_interface: private_ip|public_ip`` unless that is set."""

    def change(builder: Builder, where: str) -> None:
        if "ssh_interface" in builder or "ssh_private_ip" not in builder:
            return
        private = _parse_go_bool(builder["ssh_private_ip"], where)
        del builder["ssh_private_ip"]
        builder["ssh_interface"] = "private_ip" if private else "public_ip"

    return fix_builders_of_type(template, _is_amazon, change)


def fix_amazon_temp_sec_cidrs(template: Template) -> Template:
    """Amazon builders: string ``temporary_security_group_source_cidr`` becomes a one-element ``..._cidrs`` list."""

    def change(builder: Builder, where: str) -> None:
        cidr = builder.get("temporary_security_group_source_cidr")
        if isinstance(cidr, str):
            del builder["temporary_security_group_source_cidr"]
            builder["temporary_security_group_source_cidrs"] = [cidr]

    return fix_builders_of_type(template, _is_amazon, change)


def fix_spot_price_auto_product(template: Template) -> Template:
    """EBS/instance Amazon builders lose ``spot_price_auto_product``."""
    return fix_builders_of_type(
        template,
        lambda kind: kind in _SPOT_BUILDERS,
        lambda builder, where: builder.pop("spot_price_auto_product", None),
    )


def fix_azure_exclude_from_latest(template: Template) -> Template:
    """``azure-chroot`` builders: ``shared_image_destination.exlude_from_latest`` gets its spelling fixed."""

    def change(builder: Builder, where: str) -> None:
        destination = builder.get("shared_image_destination")
        if isinstance(destination, dict):
            rename_key(destination, "exlude_from_latest", "exclude_from_latest")

    return fix_builders_of_type(template, lambda kind: kind.startswith("azure-chroot"), change)


def fix_scaleway_access_key(template: Template) -> Template:
    """``scaleway`` builders: string ``access_key`` becomes ``organization_id`` unless that is set."""

    def change(builder: Builder, where: str) -> None:
        key = builder.get("access_key")
        if isinstance(key, str):
            builder.setdefault("organization_id", key)
            del builder["access_key"]

    return fix_builders_of_type(template, lambda kind: kind == "scaleway", change)


def _prepend_block(builder: Builder, where: str, key: str, block: dict[str, Any]) -> None:
    existing = builder.get(key, [])
    if not isinstance(existing, list):  # Packer 1.6.6 crashes here
        raise FixError(f"{where}.{key}: expected a list, got {go_kind(existing)}")
    builder[key] = [block, *existing]


def fix_vsphere_network_disk(template: Template) -> Template:
    """``vsphere-iso``: ``network``/``network_card`` move into ``network_adapters``, disk options into ``storage``."""

    def change(builder: Builder, where: str) -> None:
        nic: dict[str, Any] = {}
        for old, new in (("network", "network"), ("networkCard", "network_card"), ("network_card", "network_card")):
            if old in builder:
                nic[new] = builder.pop(old)
        if nic:
            _prepend_block(builder, where, "network_adapters", nic)
        disk: dict[str, Any] = {}
        for key in ("disk_size", "disk_thin_provisioned", "disk_eagerly_scrub"):
            if key in builder:
                disk[key] = builder.pop(key)
        if disk:
            _prepend_block(builder, where, "storage", disk)

    return fix_builders_of_type(template, lambda kind: kind == "vsphere-iso", change)

"""amazon-ebs configuration, offline: decoding, Packer's checks, region names, request shapes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.amazon import wait
from imagesmith.builders.amazon.blocks import BlockDevice, to_filters
from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.builders.amazon.regions import check_region, known_regions
from imagesmith.builders.amazon.steps.region_copy import kms_key_for, target_regions
from imagesmith.builders.amazon.steps.source_ami import choose_image, describe_params
from imagesmith.errors import BuildError, Problem
from imagesmith.template.decode import decode_config
from tests.conftest import run_cli

BASE: dict[str, Any] = {
    "type": "amazon-ebs", "access_key": "AK", "secret_key": "SK", "region": "us-west-1",
    "source_ami": "ami-21055220", "instance_type": "t1.micro", "ssh_username": "ubuntu", "ami_name": "name-1",
}  # fmt: skip


def decode(**overrides: Any) -> tuple[EbsConfig, list[str]]:
    raw = {k: v for k, v in {**BASE, **overrides}.items() if k != "type" and v is not None}
    problems: list[Problem] = []
    config = decode_config(EbsConfig, raw, render=None, path="builders[0]", problems=problems)
    return config, [p.message for p in problems]


def test_the_issue_example_decodes_with_every_block() -> None:
    config, problems = decode(
        launch_block_device_mappings=[{"device_name": "/dev/sda1", "volume_size": 8, "delete_on_termination": True}],
        ami_block_device_mappings=[{"device_name": "/dev/sdb", "virtual_name": "datadisk"}],
        tags={"OS_Version": "Ubuntu Server 13.10"},
        source_ami_filter={"filters": {"name": "x-*"}, "owners": ["self"], "most_recent": True},
        assume_role={"role_arn": "arn:aws:iam::123456789012:role/r", "session_name": "s"},
        aws_polling={"delay_seconds": 5, "max_attempts": 3},
    )
    assert problems == []
    assert config.launch_block_device_mappings[0].volume_size == 8
    assert config.source_ami_filter is not None and config.source_ami_filter.most_recent
    assert config.assume_role is not None and config.assume_role.session_name == "s"


def test_region_typo_is_caught_offline_with_a_suggestion() -> None:
    assert "us-west-1" in known_regions()
    [message] = list(check_region("nw-west-1"))
    assert "did you mean 'us-west-1'?" in message
    _, problems = decode(region="nw-west-1")
    assert any("invalid region 'nw-west-1'" in p for p in problems)
    _, problems = decode(region="nw-west-1", skip_region_validation=True)
    assert problems == []
    _, problems = decode(ami_regions=["eu-wst-1"])
    assert any("eu-west-1" in p for p in problems)


def test_validate_command_reports_the_region(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"builders": [{**BASE, "region": "nw-west-1"}]}))
    result = run_cli("validate", str(template), env={"AWS_EC2_METADATA_DISABLED": "true"})
    assert result.returncode == 1
    assert "did you mean 'us-west-1'?" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"ami_name": None}, "ami_name must be specified"),
        ({"ami_name": "a*b"}, "AMIName should only contain"),
        ({"source_ami": None}, "A source_ami or source_ami_filter must be specified"),
        ({"source_ami": None, "source_ami_filter": {"filters": {"name": "x"}}}, "must declare an owner"),
        ({"kms_key_id": "alias/k"}, "encrypt_boot must also be true"),
        ({"region_kms_key_ids": {"eu-west-1": "alias/k"}, "encrypt_boot": True}, "not in ami_regions"),
        ({"user_data": "x", "user_data_file": "/etc/hostname"}, "Only one of user_data or user_data_file"),
        ({"shutdown_behavior": "halt"}, "shutdown_behavior only accepts"),
        ({"temporary_security_group_source_cidrs": ["10.0.0.0/33"]}, "Error parsing CIDR"),
        ({"ssh_keypair_name": "mine"}, "ssh_private_key_file must be provided"),
        ({"spot_tags": {"a": "b"}}, "spot_tags should not be set when not requesting a spot instance"),
        ({"mfa_code": "123456"}, "mfa_code is not supported by imagesmith"),
        ({"access_key": None}, "access_key and secret_key must both be set"),
        ({"launch_block_device_mappings": [{"volume_size": 8}]}, "`device_name` must be specified"),
    ],
)
def test_packer_checks(overrides: dict[str, Any], expected: str) -> None:
    _, problems = decode(**overrides)
    assert any(expected in p for p in problems), problems


def test_block_device_mappings_are_built_as_packer_does() -> None:
    assert BlockDevice(device_name="/dev/sdb", virtual_name="datadisk").to_api() == {"DeviceName": "/dev/sdb"}
    assert BlockDevice(device_name="/dev/sdc", virtual_name="ephemeral0").to_api() == {
        "DeviceName": "/dev/sdc", "VirtualName": "ephemeral0"}  # fmt: skip
    gp3 = BlockDevice(device_name="/dev/sda1", volume_type="gp3", volume_size=10, encrypted=True, kms_key_id="k")
    assert gp3.to_api()["Ebs"] == {"DeleteOnTermination": False, "VolumeType": "gp3", "VolumeSize": 10,
                                   "Iops": 0, "Throughput": 0, "Encrypted": True, "KmsKeyId": "k"}  # fmt: skip


def test_source_ami_lookup() -> None:
    config, _ = decode(source_ami=None, source_ami_filter={"filters": {"b": "2", "a": "1"}, "owners": ["self"]})
    assert describe_params(config.source_ami, config.source_ami_filter) == {
        "Filters": to_filters({"a": "1", "b": "2"}), "Owners": ["self"]}  # fmt: skip
    images = [{"ImageId": "old", "CreationDate": "2019"}, {"ImageId": "new", "CreationDate": "2020"}]
    assert choose_image(images, most_recent=True)["ImageId"] == "new"
    with pytest.raises(BuildError, match="more than one result"):
        choose_image(images, most_recent=False)
    with pytest.raises(BuildError, match="No AMI was found"):
        choose_image([], most_recent=True)


def test_copy_targets_and_keys() -> None:
    plain, _ = decode(ami_regions=["eu-west-1", "us-west-1"])
    assert target_regions(plain) == ["eu-west-1"]
    encrypted, _ = decode(ami_regions=["eu-west-1"], encrypt_boot=True, kms_key_id="alias/build",
                          region_kms_key_ids={"eu-west-1": "alias/eu"})  # fmt: skip
    assert target_regions(encrypted) == ["us-west-1", "eu-west-1"]
    assert (kms_key_for(encrypted, "us-west-1"), kms_key_for(encrypted, "eu-west-1")) == ("alias/build", "alias/eu")
    assert kms_key_for(plain, "eu-west-1") == ""


def test_wait_polls_at_once_then_backs_off_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(wait.asyncio, "sleep", fake_sleep)
    states = iter(["pending", "pending", "pending", "running"])

    async def probe() -> str:
        return next(states)

    assert asyncio.run(wait.wait_until("instance", probe, {"running"})) == "running"
    assert slept == [0.1, 0.2, 0.4]

    async def never() -> str:
        return "pending"

    with pytest.raises(BuildError, match="timed out after 0s waiting for thing"):
        asyncio.run(wait.wait_until("thing", never, {"running"}, timeout=0))
    with pytest.raises(BuildError, match="reached state 'terminated'"):
        asyncio.run(wait.wait_until("x", _const("terminated"), {"running"}, failed=frozenset({"terminated"})))


def _const(value: str) -> Any:
    async def probe() -> str:
        return value

    return probe


def test_wait_limits_follow_aws_polling_and_packers_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_POLL_DELAY_SECONDS", "AWS_MAX_ATTEMPTS", "AWS_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert wait.wait_limits(None) == {}
    config, _ = decode(aws_polling={"delay_seconds": 5, "max_attempts": 3})
    assert wait.wait_limits(config.aws_polling) == {"max_delay": 5.0, "timeout": 15.0}
    monkeypatch.setenv("AWS_TIMEOUT_SECONDS", "42")
    assert wait.wait_limits(None) == {"timeout": 42.0}

"""Offline: the spot, network, IAM and sibling-builder pieces (request shapes and config checks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imagesmith.builders.amazon.blocks import PolicyDocument, Statement
from imagesmith.builders.amazon.steps.iam_profile import policy_json
from imagesmith.builders.amazon.steps.network_info import choose_subnet
from imagesmith.builders.amazon.steps.register_ami import combine_devices
from imagesmith.builders.amazon.steps.run_spot_instance import fleet_params, spot_user_data
from imagesmith.builders.amazon.surrogate_config import EbsSurrogateConfig
from imagesmith.builders.amazon.volume_config import EbsVolumeConfig
from imagesmith.errors import BuildError, Problem
from imagesmith.template.decode import decode_config

COMMON: dict[str, Any] = {
    "access_key": "AK", "secret_key": "SK", "region": "us-west-1", "source_ami": "ami-21055220",
    "instance_type": "t1.micro", "communicator": "none",
}  # fmt: skip
SURROGATE: dict[str, Any] = {
    **COMMON, "ami_name": "name-1", "ami_virtualization_type": "hvm",
    "launch_block_device_mappings": [
        {"device_name": "/dev/xvdf", "volume_size": 8, "encrypted": True, "kms_key_id": "alias/k"},
        {"device_name": "/dev/xvdg", "volume_size": 2, "omit_from_artifact": True},
        {"device_name": "/dev/xvdh", "volume_size": 3},
    ],
    "ami_block_device_mappings": [{"device_name": "/dev/xvdh", "volume_size": 9}, {"device_name": "/dev/sdz",
                                                                                  "virtual_name": "ephemeral0"}],
    "ami_root_device": {"source_device_name": "/dev/xvdf", "device_name": "/dev/xvda"},
}  # fmt: skip


def problems_of(config_class: type, raw: dict[str, Any]) -> tuple[Any, list[str]]:
    found: list[Problem] = []
    config: Any = decode_config(config_class, raw, render=None, path="builders[0]", problems=found)
    return config, [p.message for p in found]  # decoding runs every check() (nested ones too)


def test_subnet_choice_follows_packer() -> None:
    subnets = [{"SubnetId": "a", "AvailableIpAddressCount": 5}, {"SubnetId": "b", "AvailableIpAddressCount": 9}]
    assert choose_subnet(subnets, most_free=True, pick_random=False)["SubnetId"] == "b"
    assert choose_subnet(subnets[:1], most_free=False, pick_random=False)["SubnetId"] == "a"
    assert choose_subnet(subnets, most_free=False, pick_random=True)["SubnetId"] in {"a", "b"}
    with pytest.raises(BuildError, match="Your filter matched 2 Subnets"):
        choose_subnet(subnets, most_free=False, pick_random=False)
    with pytest.raises(BuildError, match="No Subnets was found"):
        choose_subnet([], most_free=True, pick_random=False)


def test_spot_fleet_and_user_data_are_packers() -> None:
    params = fleet_params("packer-fleet-launch-template-abcdefg", ["t2.micro", "t3.micro"])
    assert params["Type"] == "instant" and params["ReplaceUnhealthyInstances"] is False
    assert params["LaunchTemplateConfigs"][0]["Overrides"] == [
        {"InstanceType": "t2.micro"},
        {"InstanceType": "t3.micro"},
    ]
    assert "Overrides" not in fleet_params("n", [])["LaunchTemplateConfigs"][0]

    class Cfg:
        user_data_file = ""
        user_data = "#!/bin/sh\necho hi"

    assert spot_user_data(Cfg()) == "IyEvYmluL3NoCmVjaG8gaGk="
    Cfg.user_data = "aGk="  # already base64: sent as is
    assert spot_user_data(Cfg()) == "aGk="


def test_the_temporary_policy_is_marshalled_as_go_does() -> None:
    document = PolicyDocument(Version="2012-10-17", Statement=[Statement(Effect="Allow", Action=["s3:Get*"],
                                                                         Resource=["*"])])  # fmt: skip
    text = policy_json(document)
    assert text == '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*"],"Resource":["*"]}]}'
    assert json.loads(text)["Statement"][0]["Effect"] == "Allow"


def test_spot_tags_need_a_spot_price() -> None:
    _, problems = problems_of(EbsSurrogateConfig, {**SURROGATE, "spot_tags": {"a": "b"}})
    assert "spot_tags should not be set when not requesting a spot instance" in problems


def test_surrogate_devices_combine_as_packer_combines_them() -> None:
    config, problems = problems_of(EbsSurrogateConfig, SURROGATE)
    assert problems == []
    devices = combine_devices(config, {"/dev/xvdf": "snap-root", "/dev/xvdh": "snap-data"})
    by_name = {d["DeviceName"]: d for d in devices}
    assert set(by_name) == {"/dev/xvda", "/dev/xvdh", "/dev/sdz"}  # root renamed, omitted device left out
    assert by_name["/dev/xvda"]["Ebs"]["SnapshotId"] == "snap-root"
    assert "Encrypted" not in by_name["/dev/xvda"]["Ebs"] and "KmsKeyId" not in by_name["/dev/xvda"]["Ebs"]
    assert by_name["/dev/xvdh"]["Ebs"] == {"DeleteOnTermination": False, "VolumeSize": 3, "SnapshotId": "snap-data"}
    assert by_name["/dev/sdz"] == {"DeviceName": "/dev/sdz", "VirtualName": "ephemeral0"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"ami_virtualization_type": ""}, "ami_virtualization_type is required."),
        ({"ami_root_device": {"source_device_name": "/dev/nope", "device_name": "/dev/xvda"}},
         "no volume with name '/dev/nope' is found"),
        ({"ami_root_device": {"source_device_name": "/dev/xvdg", "device_name": "/dev/xvda"}},
         'You cannot set "omit_from_artifact": "true" for the root volume.'),
        ({"ami_root_device": {"source_device_name": "/dev/xvdf"}}, "device_name for the root_device must be specified"),
        ({"ami_architecture": "sparc"}, 'The only valid ami_architecture values are "x86_64" and "arm64"'),
    ],
)  # fmt: skip
def test_surrogate_checks(overrides: dict[str, Any], expected: str) -> None:
    _, problems = problems_of(EbsSurrogateConfig, {**SURROGATE, **overrides})
    assert any(p.endswith(expected) for p in problems), problems


def test_ebsvolume_has_no_ami_part_and_checks_its_volumes() -> None:
    raw = {**COMMON, "ebs_volumes": [{"device_name": "/dev/sdb", "volume_size": 4, "tags": {"N": "{{ .SourceAMI }}"}}]}
    config, problems = problems_of(EbsVolumeConfig, raw)
    assert problems == []
    assert config.ebs_volumes[0].tags == {"N": "{{ .SourceAMI }}"}  # rendered at run time
    ebs = config.to_ebs_config()
    assert [d.device_name for d in ebs.launch_block_device_mappings] == ["/dev/sdb"]
    _, problems = problems_of(EbsVolumeConfig, {**raw, "ami_name": "x"})
    assert problems and "ami_name" in problems[0]
    _, problems = problems_of(EbsVolumeConfig, {**COMMON, "ebs_volumes": [{"volume_size": 4}]})
    assert problems == [
        "builders[0].ebs_volumes[0]: The `device_name` must be specified for every device in the block device mapping."
    ]


def test_an_unparsable_response_is_an_aws_error_not_a_traceback() -> None:
    from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

    from imagesmith.builders.amazon.client import AwsError, _invoke

    def broken(**_: Any) -> Any:
        raise ResponseParserError("Unable to parse response (syntax error), invalid XML received:\nb'<html>500</html>'")

    with pytest.raises(AwsError) as caught:
        _invoke(broken, "ec2", "ImportImage", {})
    assert str(caught.value) == (
        "ec2 ImportImage failed: ResponseParserError: Unable to parse response (syntax error), invalid XML received:"
    )

"""amazon-ebssurrogate against moto, and against Packer 1.6.6 on the same input (fresh servers each).

moto's RegisterImage keeps only the name (docs/amazon.md): the registered AMI's block devices,
root device and architecture are checked in the recorded RegisterImage request instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import packer_available, require_tool
from tests.integration.test_amazon_ebs import build, leftovers, own_images, tags_of
from tests.integration.test_amazon_harness import ENDPOINT, Moto, start_moto
from tests.integration.test_amazon_vs_packer import collapse, normalise, sort_map_order

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGION = "us-west-1"
SURROGATE: dict[str, Any] = {
    "type": "amazon-ebssurrogate", "access_key": "AKIDEXAMPLESURROGATE", "secret_key": "surrogate-secret-never-shown",
    "region": REGION, "source_ami": "ami-21055220", "instance_type": "t1.micro", "communicator": "none",
    "ami_name": "surrogate-{{ isotime `2006` }}", "ami_virtualization_type": "hvm",
    "launch_block_device_mappings": [
        {"device_name": "/dev/xvdf", "volume_size": 8, "volume_type": "gp2", "delete_on_termination": True},
        {"device_name": "/dev/xvdg", "volume_size": 2, "volume_type": "gp2", "delete_on_termination": True,
         "omit_from_artifact": True},
    ],
    "ami_root_device": {"source_device_name": "/dev/xvdf", "device_name": "/dev/xvda", "delete_on_termination": True,
                        "volume_size": 8, "volume_type": "gp2"},
    "tags": {"Base": "{{ .SourceAMIName }}"}, "snapshot_tags": {"Kind": "surrogate"},
}  # fmt: skip


def registered(server: Moto) -> dict[str, str]:
    return next(c.params for c in server.calls() if c.action == "RegisterImage")


def test_the_ami_is_registered_from_the_root_volume_snapshot(tmp_path: Path) -> None:
    server = start_moto(tmp_path / "moto")
    try:
        result = build(server, tmp_path, SURROGATE)
        assert result.returncode == 0, result.stdout + result.stderr
        [image] = own_images(server)
        assert image["Name"].startswith("surrogate-")
        assert tags_of(image)["Base"].startswith("ubuntu/images/")
        request = registered(server)
        assert request["RootDeviceName"] == "/dev/xvda" and request["Architecture"] == "x86_64"
        assert request["BlockDeviceMapping.1.DeviceName"] == "/dev/xvda"
        assert "BlockDeviceMapping.2.DeviceName" not in request  # omit_from_artifact
        snapshot = request["BlockDeviceMapping.1.Ebs.SnapshotId"]
        [made] = server.ec2("describe_snapshots", REGION, SnapshotIds=[snapshot])["Snapshots"]
        assert tags_of(made) == {"Kind": "surrogate"}
        assert f"{REGION}: {image['ImageId']}" in result.stdout
        assert "surrogate-secret-never-shown" not in result.stdout + result.stderr
        assert leftovers(server) == {}
    finally:
        server.stop()


@pytest.mark.compat
def test_same_calls_and_ami_as_packer(tmp_path: Path) -> None:
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    results = {}
    for tool in ("packer", "imagesmith"):
        server = start_moto(tmp_path / f"moto-{tool}")
        extra = {"custom_endpoint_ec2": ENDPOINT, "skip_region_validation": True} if tool == "packer" else {}
        try:
            workdir = tmp_path / tool
            workdir.mkdir()
            result = build(server, workdir, {**SURROGATE, **extra}, tool=tool)
            assert result.returncode == 0, f"{tool}: {result.stdout}{result.stderr}"
            images = [(i["Name"], tags_of(i)) for i in own_images(server)]
            results[tool] = (sort_map_order(collapse(normalise(server.calls()))), images, leftovers(server))
        finally:
            server.stop()
    assert results["imagesmith"] == results["packer"]
    assert results["packer"][2] == {}

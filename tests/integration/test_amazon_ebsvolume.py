"""amazon-ebsvolume against moto, and against Packer 1.6.6 on the same input (fresh servers each)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import packer_available, require_tool
from tests.integration.test_amazon_ebs import leftovers, tags_of
from tests.integration.test_amazon_harness import ENDPOINT, Moto, start_moto
from tests.integration.test_amazon_vs_packer import collapse, normalise

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGION = "us-west-1"
VOLUME_BUILDER: dict[str, Any] = {
    "type": "amazon-ebsvolume", "access_key": "AKIDEXAMPLEVOLUME", "secret_key": "volume-secret-never-shown",
    "region": REGION, "source_ami": "ami-21055220", "instance_type": "t1.micro", "communicator": "none",
    "run_volume_tags": {"Run": "{{ .SourceAMI }}"},
    "ebs_volumes": [
        {"device_name": "/dev/sdb", "volume_size": 4, "delete_on_termination": False,
         "tags": {"Name": "data-{{ .BuildRegion }}", "Kind": "kept"}},
        {"device_name": "/dev/sdc", "volume_size": 2, "delete_on_termination": True},
    ],
}  # fmt: skip


def build(server: Moto, workdir: Path, tool: str) -> Any:
    workdir.mkdir(parents=True, exist_ok=True)
    builder = {**VOLUME_BUILDER, "custom_endpoint_ec2": ENDPOINT} if tool == "packer" else VOLUME_BUILDER
    path = workdir / "volume.json"
    path.write_text(json.dumps({"builders": [builder]}))
    argv = (
        ["packer", "build", str(path)] if tool == "packer" else [sys.executable, "-m", "imagesmith", "build", str(path)]
    )
    return server.run(argv, cwd=workdir)


def kept_volumes(server: Moto) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = server.ec2("describe_volumes", REGION)["Volumes"]
    return [v for v in volumes if v["State"] == "available"]


def test_the_kept_volume_is_the_artifact_with_its_own_tags(tmp_path: Path) -> None:
    server = start_moto(tmp_path / "moto")
    try:
        result = build(server, tmp_path / "imagesmith", "imagesmith")
        assert result.returncode == 0, result.stdout + result.stderr
        [volume] = kept_volumes(server)
        assert volume["Size"] == 4
        assert tags_of(volume) == {"Name": f"data-{REGION}", "Kind": "kept"}  # the run tag was removed
        assert f"{REGION}:{volume['VolumeId']}" in result.stdout
        assert "volume-secret-never-shown" not in result.stdout + result.stderr
        left = leftovers(server)
        assert left.pop("volumes") == [volume["VolumeId"]]  # the artifact, not a leftover
        assert left == {}
    finally:
        server.stop()


def test_same_calls_and_volumes_as_packer(tmp_path: Path) -> None:
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    results = {}
    for tool in ("packer", "imagesmith"):
        server = start_moto(tmp_path / f"moto-{tool}")
        try:
            result = build(server, tmp_path / tool, tool)
            assert result.returncode == 0, f"{tool}: {result.stdout}{result.stderr}"
            volumes = sorted((v["Size"], sorted(tags_of(v).items())) for v in kept_volumes(server))
            results[tool] = (collapse(normalise(server.calls())), volumes)
        finally:
            server.stop()
    assert results["imagesmith"][0] == results["packer"][0]
    assert results["imagesmith"][1] == results["packer"][1]

"""Differential: imagesmith's and Packer 1.6.6's amazon-ebs builds, each against a fresh moto server.

Both must make the same ordered EC2 calls with the same parameters (generated names, ids and
client tokens normalised), produce the same AMI and leave nothing behind.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import packer_available, require_tool
from tests.integration.test_amazon_ebs import EXAMPLE, build, leftovers, own_images, tags_of
from tests.integration.test_amazon_harness import ENDPOINT, OWNER, Call, Moto, start_moto

pytestmark = [pytest.mark.integration, pytest.mark.compat, pytest.mark.slow]
_IDS = re.compile(
    r"\b(ami|i|sg|vol|snap|r|subnet|vpc|lt)-[0-9a-f]{8,17}\b|packer[_-][0-9a-f-]{36}|packer-fleet-launch-template-\w{7}"
)
#: calls Packer makes and imagesmith deliberately does not (docs/amazon.md): the waiter's extra describes
_PACKER_ONLY_REPEATS = ("DescribeInstances", "DescribeImages")


def normalise(calls: list[Call]) -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for call in calls:
        params = {k: _IDS.sub(lambda m: f"<{m.group(1) or 'packer'}>", v) for k, v in call.params.items()}
        params.pop("ClientToken", None)
        if params.get("Description", "").startswith("Packer: "):  # CreateSnapshot's: a timestamp
            params["Description"] = "Packer: <time>"
        params = sort_filters(sort_tags(params))
        if call.action == "CreateImage" and re.fullmatch(r"[A-Za-z0-9]{7}", params.get("Name", "")):
            params["Name"] = "<random intermediary>"
        out.append((call.action, call.region, params))
    return out


_TAG_KEY = re.compile(r"^(.*Tag)\.(\d+)\.Key$")


def sort_tags(params: dict[str, str]) -> dict[str, str]:
    """Tag lists in key order (Packer sends a Go map's tags in random order)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for key in list(params):
        found = _TAG_KEY.match(key)
        if found:
            prefix, n = found.groups()
            groups.setdefault(prefix, []).append((params.pop(key), params.pop(f"{prefix}.{n}.Value", "")))
    for prefix, pairs in groups.items():
        for i, (key, value) in enumerate(sorted(pairs), 1):
            params[f"{prefix}.{i}.Key"] = key
            params[f"{prefix}.{i}.Value"] = value
    return params


_FILTER_NAME = re.compile(r"^((?:.*\.)?Filter)\.(\d+)\.Name$")


def sort_filters(params: dict[str, str]) -> dict[str, str]:
    """Filters in name order (Packer builds them from a Go map: random order)."""
    groups: dict[str, list[tuple[str, list[str]]]] = {}
    for key in list(params):
        found = _FILTER_NAME.match(key)
        if found:
            prefix, n = found.groups()
            values = [params.pop(k) for k in sorted(params) if k.startswith(f"{prefix}.{n}.Value.")]
            groups.setdefault(prefix, []).append((params.pop(key), values))
    for prefix, filters in groups.items():
        for i, (name, values) in enumerate(sorted(filters), 1):
            params[f"{prefix}.{i}.Name"] = name
            for j, value in enumerate(values, 1):
                params[f"{prefix}.{i}.Value.{j}"] = value
    return params


_MAP_ORDER = ("ModifyImageAttribute", "ModifySnapshotAttribute")


def sort_map_order(calls: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, str, dict[str, str]]]:
    """Consecutive attribute changes of one kind sorted: Packer sends them in Go map order (random)."""
    out: list[tuple[str, str, dict[str, str]]] = []
    for (action, _), group in itertools.groupby(calls, key=lambda c: c[:2]):
        run = list(group)
        out.extend(sorted(run, key=repr) if action in _MAP_ORDER else run)
    return out


def collapse(calls: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, str, dict[str, str]]]:
    """Drop immediate repeats of a describe call (a waiter's polls): counts differ by design."""
    out: list[tuple[str, str, dict[str, str]]] = []
    for call in calls:
        if out and call[0] in _PACKER_ONLY_REPEATS and out[-1] == call:
            continue
        out.append(call)
    return out


_PER_AMI = ("CopyImage", "DescribeImages", "CreateTags", "ModifyImageAttribute", "ModifySnapshotAttribute")


def group_regions(calls: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, str, dict[str, str]]]:
    """From the first copy or tagging on, Packer works on the regions concurrently or in Go map order
    (random): that stretch is compared region by region, each region's calls in their order."""
    starts = [i for i, c in enumerate(calls) if c[0] in ("CopyImage", "CreateTags", "ModifyImageAttribute")]
    if not starts:
        return calls
    begin = end = starts[0]
    while end < len(calls) and calls[end][0] in _PER_AMI:
        end += 1
    return calls[:begin] + sorted(calls[begin:end], key=lambda c: c[1]) + calls[end:]


def run_both(
    tmp_path: Path,
    builder: dict[str, Any],
    provisioners: list[dict[str, Any]] | None = None,
    setup: Callable[[Moto], None] | None = None,
) -> dict[str, tuple[Moto, Any]]:
    runs = {}
    for tool in ("packer", "imagesmith"):
        server = start_moto(tmp_path / f"moto-{tool}")
        if setup is not None:
            setup(server)
            server.reset_recording()
        extra = {"custom_endpoint_ec2": ENDPOINT, "skip_region_validation": True} if tool == "packer" else {}
        workdir = tmp_path / tool
        workdir.mkdir()
        result = build(server, workdir, {**builder, **extra}, provisioners, tool=tool)
        runs[tool] = (server, result)
    return runs


CASES: dict[str, dict[str, Any]] = {
    "example": {},
    "copies": {"ami_regions": ["eu-west-1"], "tags": {"Base": "{{ .SourceAMIName }}"}, "force_deregister": True},
    "encrypt_boot": {"encrypt_boot": True, "ami_regions": ["eu-west-1"]},
    "failing": {},
    "filter+copies": {
        "source_ami": "", "ami_regions": ["eu-west-1", "us-east-2"],
        "source_ami_filter": {"filters": {"name": "ubuntu/images/*focal*"}, "owners": [OWNER], "most_recent": True},
        "tags": {"Base": "{{ .SourceAMIName }}", "Region": "{{ .BuildRegion }}"}, "snapshot_tags": {"Kind": "snap"},
        "ami_users": ["123456789012"], "ami_groups": ["all"], "snapshot_users": ["111122223333"],
        "snapshot_groups": ["all"], "ami_description": "from {{ .SourceAMIName }}",
    },
    "spot+temporary-profile": {
        "spot_price": "0.05", "run_volume_tags": {"Volume": "{{ .SourceAMI }}"}, "run_tags": {"Run": "yes"},
        "temporary_iam_instance_profile_policy_document": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": ["*"]}]},
    },
    "network-filters": {
        "vpc_filter": {"filters": {"isDefault": "true"}},
        "subnet_filter": {"filters": {"availability-zone": "us-west-1a"}},
        "security_group_filter": {"filters": {"group-name": "default"}},
    },
    "force_deregister-existing": {"force_deregister": True, "force_delete_snapshot": True},
}  # fmt: skip


def make_existing_ami(server: Moto) -> None:
    """An AMI already named like the build's, for force_deregister to remove."""
    reservation = server.ec2("run_instances", "us-west-1", ImageId="ami-21055220", MinCount=1, MaxCount=1)
    instance = reservation["Instances"][0]["InstanceId"]
    server.ec2("create_image", "us-west-1", InstanceId=instance, Name=EXAMPLE["ami_name"])
    server.ec2("terminate_instances", "us-west-1", InstanceIds=[instance])


def describe_result(server: Moto, region: str, image: dict[str, Any]) -> tuple[Any, ...]:
    """What a build made of an AMI, as moto keeps it: name, tags, launch permissions, snapshot permissions."""
    launch = server.ec2("describe_image_attribute", region, ImageId=image["ImageId"], Attribute="launchPermission")
    snapshots = [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if "Ebs" in m]
    volume_permissions = [
        server.ec2("describe_snapshot_attribute", region, SnapshotId=snap, Attribute="createVolumePermission")[
            "CreateVolumePermissions"] for snap in snapshots
    ]  # fmt: skip
    permissions = sorted(sorted(p.items()) for p in launch["LaunchPermissions"])
    return image["Name"], tags_of(image), permissions, volume_permissions


SETUPS: dict[str, Callable[[Moto], None]] = {"force_deregister-existing": make_existing_ami}


@pytest.mark.parametrize("case", list(CASES))
def test_same_calls_same_ami_nothing_left(tmp_path: Path, case: str) -> None:
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    builder = EXAMPLE | CASES[case]
    provisioners = [{"type": "shell-local", "inline": ["exit 1"]}] if case == "failing" else None
    runs = run_both(tmp_path, builder, provisioners, SETUPS.get(case))
    try:
        results = {}
        for tool, (server, result) in runs.items():
            assert (result.returncode == 0) == (case != "failing"), f"{tool}: {result.stdout}{result.stderr}"
            calls = sort_map_order(collapse(group_regions(normalise(server.calls()))))
            regions = ["us-west-1", *builder.get("ami_regions", [])]
            images = {r: [describe_result(server, r, i) for i in own_images(server, r)] for r in regions}
            left = {r: leftovers(server, r) for r in regions}
            results[tool] = (calls, images, left)
        packer, ours = results["packer"], results["imagesmith"]
        assert ours[0] == packer[0]
        assert ours[1] == packer[1]
        assert ours[2] == packer[2] == {r: {} for r in ours[2]}
    finally:
        for server, _ in runs.values():
            server.stop()

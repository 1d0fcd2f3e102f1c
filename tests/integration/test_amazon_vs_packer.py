"""Differential: imagesmith's and Packer 1.6.6's amazon-ebs builds, each against a fresh moto server.

Both must make the same ordered EC2 calls with the same parameters (generated names, ids and
client tokens normalised), produce the same AMI and leave nothing behind.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import packer_available, require_tool
from tests.integration.test_amazon_ebs import EXAMPLE, build, leftovers, own_images, tags_of
from tests.integration.test_amazon_harness import ENDPOINT, Call, Moto, start_moto

pytestmark = [pytest.mark.integration, pytest.mark.compat, pytest.mark.slow]
_IDS = re.compile(r"\b(ami|i|sg|vol|snap|r)-[0-9a-f]{8,17}\b|packer_[0-9a-f-]{36}")
#: calls Packer makes and imagesmith deliberately does not (docs/amazon.md): the waiter's extra describes
_PACKER_ONLY_REPEATS = ("DescribeInstances", "DescribeImages")


def normalise(calls: list[Call]) -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for call in calls:
        params = {k: _IDS.sub(lambda m: f"<{m.group(1) or 'packer'}>", v) for k, v in call.params.items()}
        params.pop("ClientToken", None)
        out.append((call.action, call.region, params))
    return out


def collapse(calls: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, str, dict[str, str]]]:
    """Drop immediate repeats of a describe call (a waiter's polls): counts differ by design."""
    out: list[tuple[str, str, dict[str, str]]] = []
    for call in calls:
        if out and call[0] in _PACKER_ONLY_REPEATS and out[-1] == call:
            continue
        out.append(call)
    return out


def run_both(tmp_path: Path, builder: dict[str, Any]) -> dict[str, tuple[Moto, Any]]:
    runs = {}
    for tool in ("packer", "imagesmith"):
        server = start_moto(tmp_path / f"moto-{tool}")
        extra = {"custom_endpoint_ec2": ENDPOINT, "skip_region_validation": True} if tool == "packer" else {}
        workdir = tmp_path / tool
        workdir.mkdir()
        result = build(server, workdir, {**builder, **extra}, tool=tool)
        runs[tool] = (server, result)
    return runs


@pytest.mark.parametrize("case", ["example", "copies"])
def test_same_calls_same_ami_nothing_left(tmp_path: Path, case: str) -> None:
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    builder = dict(EXAMPLE)
    if case == "copies":
        builder |= {"ami_regions": ["eu-west-1"], "tags": {"Base": "{{ .SourceAMIName }}"}, "force_deregister": True}
    runs = run_both(tmp_path, builder)
    try:
        results = {}
        for tool, (server, result) in runs.items():
            assert result.returncode == 0, f"{tool}: {result.stdout}{result.stderr}"
            calls = collapse(normalise(server.calls()))
            regions = ["us-west-1", *builder.get("ami_regions", [])]
            images = {r: [(i["Name"], tags_of(i)) for i in own_images(server, r)] for r in regions}
            left = {r: leftovers(server, r) for r in regions}
            results[tool] = (calls, images, left)
        packer, ours = results["packer"], results["imagesmith"]
        assert ours[0] == packer[0]
        assert ours[1] == packer[1]
        assert ours[2] == packer[2] == {r: {} for r in ours[2]}
    finally:
        for server, _ in runs.values():
            server.stop()

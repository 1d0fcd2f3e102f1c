"""Offline region validation from the region list botocore ships (``botocore/data/endpoints.json``).

Packer 1.6.6 checks regions at build time with a DescribeRegions call; imagesmith checks them
while validating the template, without the network, and suggests the nearest valid name.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition botocore knows; empty if botocore is not installed."""
    spec = importlib.util.find_spec("botocore")  # not imported: validate stays fast
    if spec is None or spec.origin is None:
        return frozenset()
    data = json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text())
    return frozenset(region for partition in data["partitions"] for region in partition["regions"])


def check_region(region: str, what: str = "region") -> Iterator[str]:
    """An error for ``region`` if botocore does not know it, naming the closest known one."""
    regions = known_regions()
    if not regions or region in regions:
        return
    close = difflib.get_close_matches(region, sorted(regions), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    yield (
        f"{what}: invalid region {region!r}{hint}; set skip_region_validation to use a region the AWS SDK does not list"
    )

"""Run-time rendering and generated data of the amazon builders, each in one function.

Packer renders ``ami_description`` and the tag maps when it uses them, with the source AMI's
facts as template data (``{{ .SourceAMIName }}``, ``{{ .BuildRegion }}``, ...), and exports the
same facts as the build's generated data. Both live here so they can move to the core's typed
generated data and run-time renderer in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagesmith.builders.amazon.blocks import KeyValue, NameValue
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildInfo
from imagesmith.core.render import render_runtime
from imagesmith.core.steps import fail
from imagesmith.errors import RenderError


def make_generated_data(region: str, source: Any) -> GeneratedData:
    """Packer's ``StepSetGeneratedData`` for the amazon builders (source: a SourceImage or None)."""
    if source is None:
        return GeneratedData(extra={"BuildRegion": region})
    return GeneratedData(
        extra={
            "BuildRegion": region,
            "SourceAMI": source.id,
            "SourceAMIName": source.name,
            "SourceAMICreationDate": source.creation_date,
            "SourceAMIOwner": source.owner,
            "SourceAMIOwnerName": source.owner_alias,
        }
    )


def render_late(text: str, data: Mapping[str, Any], info: BuildInfo, what: str) -> str:
    """Render ``text`` with ``data`` (the build's generated data plus SourceAMITags)."""
    try:
        return render_runtime(text, info, data)
    except RenderError as exc:
        raise fail(f"Error rendering {what}: {exc}") from exc


def render_tags(
    tags: Mapping[str, str],
    singular: list[KeyValue] | list[NameValue],
    data: Mapping[str, Any],
    info: BuildInfo,
    what: str,
) -> dict[str, str]:
    """The tag map plus its singular blocks, keys and values rendered."""
    merged = dict(tags)
    for item in singular:
        key = item.key if isinstance(item, KeyValue) else item.name
        merged[key] = item.value
    return {render_late(k, data, info, what): render_late(v, data, info, what) for k, v in merged.items()}


def to_api_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """EC2 ``Tags``, sorted by key (Packer iterates a Go map: its order is random)."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]

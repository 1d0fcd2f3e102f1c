"""A parsed JSON template: what :mod:`imagesmith.template.parse` produces and ``prepare`` consumes.

Blocks keep their raw, uninterpolated plugin configuration (:class:`JsonObject`, with positions)
because Packer renders it later, per build, with the build's own context. Meta keys (``type``,
``name``, ``only``, ``override``, ``pause_before``, ...) are split off here, as in Packer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagesmith.errors import Location
from imagesmith.template.positions import JsonObject
from imagesmith.template.values import Duration


@dataclass
class Variable:
    """A template variable: ``null`` makes it required; otherwise its default is a string."""

    name: str
    default: str = ""
    required: bool = False
    location: Location | None = None


@dataclass
class BuilderBlock:
    """One entry of ``builders``; ``name`` is the raw (uninterpolated) name, defaulting to ``type``."""

    index: int
    type: str
    name: str
    config: JsonObject
    location: Location | None = None

    @property
    def path(self) -> str:
        return f"builders[{self.index}]"


@dataclass
class ProvisionerBlock:
    """One provisioner, with Packer's meta options split off its config."""

    index: int
    type: str
    config: JsonObject
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    override: dict[str, Any] = field(default_factory=dict)
    pause_before: Duration = field(default_factory=lambda: Duration(0.0))
    timeout: Duration = field(default_factory=lambda: Duration(0.0))
    max_retries: str = ""
    cache: bool = True  # imagesmith extension: layer cache (docs/layers.md)
    cache_key_extra: str = ""  # imagesmith extension
    location: Location | None = None
    path: str = ""

    def skip(self, build_name: str) -> bool:
        return skips(self.only, self.except_, build_name)


@dataclass
class PostProcessorBlock:
    """One post-processor of a chain (``post-processors[i]`` or ``post-processors[i][j]``)."""

    chain: int
    index: int
    type: str
    name: str
    config: JsonObject
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    keep_input_artifact: bool | None = None
    location: Location | None = None
    path: str = ""

    def skip(self, build_name: str) -> bool:
        return skips(self.only, self.except_, build_name)


@dataclass
class Template:
    """A whole JSON template. ``path`` is absolute (``template_dir`` uses it); ``display`` is for messages."""

    path: str
    display: str
    description: str = ""
    min_version: str = ""
    comments: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    sensitive_variables: list[str] = field(default_factory=list)
    builders: list[BuilderBlock] = field(default_factory=list)
    provisioners: list[ProvisionerBlock] = field(default_factory=list)
    cleanup_provisioner: ProvisionerBlock | None = None
    post_processors: list[list[PostProcessorBlock]] = field(default_factory=list)
    push: dict[str, Any] = field(default_factory=dict)
    raw: Any = None

    def builder_names(self) -> dict[str, BuilderBlock]:
        """Raw builder names → blocks, in template order."""
        return {b.name: b for b in self.builders}


def skips(only: list[str], except_: list[str], build_name: str) -> bool:
    """Packer's ``OnlyExcept.Skip``, matched against the build's raw name."""
    if only:
        return build_name not in only
    return build_name in except_


@dataclass
class HCL2Template(Template):
    """A :class:`Template` made from HCL2; its variables were applied when it was decoded."""


def is_hcl2(path: str) -> bool:
    """Whether ``path`` names HCL2 configuration: a ``*.pkr.hcl``/``*.pkr.json`` file or a directory.

    Here, not in :mod:`.hcl2_bridge`, so that a JSON template's run does not import the HCL2 engine."""
    return path.endswith((".pkr.hcl", ".pkr.json")) or (path != "-" and Path(path).is_dir())

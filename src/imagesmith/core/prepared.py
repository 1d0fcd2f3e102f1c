"""A template made ready to build: the hand-off from :mod:`imagesmith.core.prepare` to the engine.

``prepare`` (used by both ``validate`` and ``build``) turns a loaded template plus CLI
variables into :class:`PreparedBuild` s, having decoded and checked every block; ``build``
runs them. Nothing here has side effects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imagesmith.core.plugin import Builder, BuildInfo, PostProcessor, Provisioner


@dataclass
class PreparedProvisioner:
    """A provisioner block with Packer's meta-options split off.

    ``make(data)`` builds the plugin with the build's generated data (``ID``, ``Host``,
    ``PackerHTTPAddr``, ...) so ``{{build `ID`}}`` and ``{{ .ID }}``-style placeholders get
    their real values at provision time, as in Packer. Config errors were already reported
    at prepare time with placeholder data, so ``make`` is not expected to fail.
    """

    type_name: str
    make: Callable[[Mapping[str, str]], Provisioner]
    pause_before: float = 0.0  # seconds (a Duration when set)
    timeout: float = 0.0
    max_retries: int = 0
    #: layer cache (docs/layers.md): the config rendered with placeholder data (hashed into the
    #: layer key, never stored), ``"cache": false`` and ``cache_key_extra``
    key_config: Any = None
    cache: bool = True
    cache_key_extra: str = ""


@dataclass
class PreparedPostProcessor:
    type_name: str
    name: str
    plugin: PostProcessor
    keep_input_artifact: bool | None = None  # None: the post-processor's default


@dataclass
class PreparedBuild:
    name: str  # rendered build name (what -only/-except match)
    raw_name: str
    builder_type: str
    info: BuildInfo
    builder: Builder
    provisioners: list[PreparedProvisioner] = field(default_factory=list)
    error_cleanup: PreparedProvisioner | None = None
    #: each inner list is one chain, already cut by ``-except=<pp name>`` and only/except
    post_processors: list[list[PreparedPostProcessor]] = field(default_factory=list)

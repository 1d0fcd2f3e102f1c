"""The vagrant post-processor's options, and which builder ids become which Vagrant provider.

Decoding follows Packer 1.6.6: every option is rendered when the template is prepared except
``output`` (and ``override``, rendered here once the provider is known, ``output`` excepted), an
absent ``compression_level`` means 6 (``flate.DefaultCompression``) while an explicit 0 means a
plain tar, and ``vagrantfile_template`` must exist unless ``vagrantfile_template_generated``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from imagesmith.errors import BuildError
from imagesmith.template.decode import ConfigValueError, convert, option

DEFAULT_OUTPUT = "packer_{{ .BuildName }}_{{.Provider}}.box"
DEFAULT_LEVEL = 6  # Go's flate.DefaultCompression (-1) as pgzip applies it

#: Packer 1.6.6's ``builtins``: the builder id of the input artifact → the box's provider.
PROVIDER_OF_BUILDER: Mapping[str, str] = {
    "mitchellh.amazonebs": "aws",
    "mitchellh.amazon.instance": "aws",
    "mitchellh.virtualbox": "virtualbox",
    "mitchellh.vmware": "vmware",
    "mitchellh.vmware-esx": "vmware",
    "pearkes.digitalocean": "digitalocean",
    "packer.googlecompute": "google",
    "hashicorp.scaleway": "scaleway",
    "packer.parallels": "parallels",
    "MSOpenTech.hyperv": "hyperv",
    "transcend.qemu": "libvirt",
    "ustream.lxc": "lxc",
    "Azure.ResourceManagement.VMImage": "azure",
    "packer.post-processor.docker-import": "docker",
    "packer.post-processor.docker-tag": "docker",
    "packer.post-processor.docker-push": "docker",
}

#: Every provider name Packer accepts in ``provider_override`` (sorted; Packer lists them in map order).
KNOWN_PROVIDERS: tuple[str, ...] = tuple(sorted(set(PROVIDER_OF_BUILDER.values())))


@dataclass(frozen=True)
class VagrantConfig:
    """Packer's ``post-processor/vagrant`` Config (the ``keep_input_artifact`` meta key is the core's)."""

    compression_level: int | None = option(None, doc="gzip level 1-9 (-1: default 6, 0: plain tar); unset: 6")
    include: list[str] = option(factory=list, doc="extra files copied into the box by base name")
    output: str = option("", render=False, doc="box path; rendered with .BuildName, .Provider, .ArtifactId")
    override: dict[str, dict[str, Any]] = option(
        factory=dict, render=False, doc="per-provider option overrides, e.g. {libvirt: {compression_level: 1}}"
    )
    vagrantfile_template: str = option("", doc="file whose rendered contents are appended to the Vagrantfile")
    vagrantfile_template_generated: bool = option(False, doc="the template is made during the build: skip the check")
    provider_override: str = option("", doc="the provider to use whatever the input artifact's builder")

    def check(self) -> Iterable[str]:
        """Packer's configure-time rules."""
        template = self.vagrantfile_template
        if template and not self.vagrantfile_template_generated and not os.path.exists(template):
            yield f"vagrantfile_template '{self.vagrantfile_template}' does not exist"
        if self.provider_override and self.provider_override not in KNOWN_PROVIDERS:
            yield (
                f"The given provider_override {self.provider_override} is not valid. "
                f"Please choose from one of {', '.join(KNOWN_PROVIDERS)}"
            )

    @property
    def level(self) -> int:
        """The compression level used: unset → 6; -1 (Go's "default") → 6; others as given."""
        if self.compression_level is None or self.compression_level == -1:
            return DEFAULT_LEVEL
        return self.compression_level

    @property
    def output_template(self) -> str:
        return self.output or DEFAULT_OUTPUT


_OVERRIDABLE = {f.name: f for f in dataclasses.fields(VagrantConfig) if f.name != "override"}


def specific_config(config: VagrantConfig, provider: str, render: Any = None) -> VagrantConfig:
    """``config`` with ``override[provider]`` applied (Packer's ``specificConfig``).

    ``render`` (str → str), when given, renders the override's strings, except ``output``
    which is rendered later with the box's data. Unknown keys are ignored, as mapstructure does.
    """
    layer = config.override.get(provider)
    if not layer:
        return config
    if not isinstance(layer, Mapping):
        raise BuildError(f"Error overriding config for {provider}: expected a map, got {layer!r}")
    changes: dict[str, Any] = {}
    for key, value in layer.items():
        fld = _OVERRIDABLE.get(key)
        if fld is None:
            continue
        if render is not None and key != "output":
            value = _render_deep(value, render)
        try:
            changes[fld.name] = convert(value, _HINTS[fld.name], key)
        except ConfigValueError as exc:
            raise BuildError(f"Error overriding config for {provider}: '{key}' {exc}") from None
    return dataclasses.replace(config, **changes)


_HINTS: dict[str, Any] = {
    "compression_level": int | None,
    "include": list[str],
    "output": str,
    "vagrantfile_template": str,
    "vagrantfile_template_generated": bool,
    "provider_override": str,
}


def _render_deep(value: Any, render: Any) -> Any:
    if isinstance(value, str):
        return render(value) if "{{" in value else value
    if isinstance(value, list):
        return [_render_deep(v, render) for v in value]
    return value

"""virtualbox-ovf's configuration: the shared VirtualBox keys plus the appliance to import."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.builders.virtualbox.config import VBoxCommonConfig
from imagesmith.steps.checksum import parse_checksum
from imagesmith.template.decode import option


@dataclass(frozen=True)
class VirtualBoxOvfConfig(VBoxCommonConfig):
    """One ``"type": "virtualbox-ovf"`` builder block."""

    source_path: str = option("")
    checksum: str = option("")
    target_path: str = option("")
    import_flags: list[str] = option(factory=list)
    import_opts: str = option("")

    def resolved(self, build_name: str, now: int) -> VirtualBoxOvfConfig:
        return dataclasses.replace(self, **self.common_defaults(build_name, now))

    @property
    def import_arguments(self) -> list[str]:
        """``import_flags``, then ``--options import_opts`` (Packer's ovf stepImport)."""
        return [*self.import_flags, *(["--options", self.import_opts] if self.import_opts else [])]

    def check(self) -> Iterator[str]:
        """Packer 1.6.6's virtualbox-ovf prepare-time errors."""
        if not self.source_path:
            yield "source_path is required"
        if self.checksum:
            try:
                parse_checksum(self.checksum)
            except ValueError as exc:
                yield str(exc)
        yield from self.check_common()

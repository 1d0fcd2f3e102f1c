"""virtualbox-vm's configuration: the shared VirtualBox keys plus the registered VM and its snapshots.

Packer 1.6.6 also reads the VM's snapshots while preparing the configuration (so ``packer validate``
runs VBoxManage); imagesmith's configuration has no side effects, so those checks are the build's
first step (:class:`~imagesmith.builders.virtualbox.steps.snapshot.CheckSnapshots`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.builders.virtualbox.config import VBoxCommonConfig
from imagesmith.template.decode import option
from imagesmith.template.values import Duration


@dataclass(frozen=True)
class VirtualBoxVmConfig(VBoxCommonConfig):
    """One ``"type": "virtualbox-vm"`` builder block."""

    attach_snapshot: str = option("")
    target_snapshot: str = option("")
    force_delete_snapshot: bool = option(False)

    def resolved(self, build_name: str, now: int) -> VirtualBoxVmConfig:
        """Packer's defaults: those of every VirtualBox builder, and a 2 s ``post_shutdown_delay``."""
        return dataclasses.replace(
            self,
            **self.common_defaults(build_name, now),
            post_shutdown_delay=self.post_shutdown_delay or Duration(2),
        )

    def check(self) -> Iterator[str]:
        """Packer 1.6.6's virtualbox-vm prepare-time errors that need no VBoxManage call."""
        yield from self.check_common()
        if not self.vm_name:
            yield "vm_name is required"
        if self.attach_snapshot and self.attach_snapshot == self.target_snapshot:
            yield (f"Attach snapshot {self.attach_snapshot} and target snapshot {self.target_snapshot} "
                   "cannot be the same")  # fmt: skip

"""The amazon-ebssurrogate configuration (Packer 1.6.6 ``builder/amazon/ebssurrogate``).

amazon-ebs's options plus ``ami_root_device`` (which launch volume becomes the root of the AMI
registered from snapshots), ``ami_architecture`` and ``omit_from_artifact`` on launch mappings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.builders.amazon.blocks import BlockDevice
from imagesmith.builders.amazon.config import EbsConfig
from imagesmith.template.decode import option

ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class SurrogateDevice(BlockDevice):
    """A launch mapping that may be left out of the AMI."""

    omit_from_artifact: bool = option(False)


@dataclass(frozen=True)
class RootDevice:
    """``ami_root_device``: the launch volume ``source_device_name`` becomes ``device_name``."""

    source_device_name: str = option("")
    device_name: str = option("")
    delete_on_termination: bool = option(False)
    iops: int = option(0)
    volume_type: str = option("")
    volume_size: int = option(0)

    def check(self) -> Iterator[str]:
        if not self.source_device_name:
            yield "source_device_name for the root_device must be specified"
        if not self.device_name:
            yield "device_name for the root_device must be specified"
        if self.volume_type == "gp2" and self.iops:
            yield "iops may not be specified for a gp2 volume"
        if self.iops < 0:
            yield "iops must be greater than 0"
        if self.volume_size < 0:
            yield "volume_size must be greater than 0"


@dataclass(frozen=True)
class EbsSurrogateConfig(EbsConfig):
    """One ``"type": "amazon-ebssurrogate"`` builder block."""

    # a list of a BlockDevice subclass: the shared steps only read it as BlockDevices
    launch_block_device_mappings: list[SurrogateDevice] = option(factory=list)  # type: ignore[assignment]
    ami_root_device: RootDevice = option(factory=RootDevice)
    ami_architecture: str = option("")

    @property
    def architecture(self) -> str:
        return self.ami_architecture or "x86_64"

    def check(self) -> Iterator[str]:
        yield from super().check()  # ami_root_device checks itself when decoded
        if not self.ami_virtualization_type:
            yield "ami_virtualization_type is required."
        source = self.ami_root_device.source_device_name
        root = [d for d in self.launch_block_device_mappings if d.device_name == source]
        if not root:
            yield f"no volume with name '{self.ami_root_device.source_device_name}' is found"
        elif root[0].omit_from_artifact:
            yield 'You cannot set "omit_from_artifact": "true" for the root volume.'
        if self.architecture not in ARCHITECTURES:
            yield 'The only valid ami_architecture values are "x86_64" and "arm64"'

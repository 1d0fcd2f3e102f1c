"""The amazon-ebsvolume configuration (Packer 1.6.6 ``builder/amazon/ebsvolume``).

Access, run and communicator options are amazon-ebs's; there is no AMI part. ``ebs_volumes`` are
the launch mappings, each with the ``tags`` its volume keeps. The steps it shares with amazon-ebs
take an :class:`EbsConfig` made from this one by :meth:`EbsVolumeConfig.to_ebs_config` (the AMI
fields stay at their defaults, and no shared step that reads them runs for ebsvolume).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from imagesmith.builders.amazon.blocks import BlockDevice, NameValue
from imagesmith.builders.amazon.config import AccessConfig, EbsConfig, RunConfig
from imagesmith.builders.amazon.render import render_late
from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.core.plugin import BuildInfo
from imagesmith.template.decode import option

#: amazon-ebs's default name check needs a name; ebsvolume has none (never sent)
_NO_AMI = "ebsvolume-has-no-ami"


@dataclass(frozen=True)
class VolumeDevice(BlockDevice):
    """One ``ebs_volumes`` entry: a launch mapping plus the tags of the volume it makes."""

    tags: dict[str, str] = option(factory=dict, render=False)

    def to_block_device(self) -> BlockDevice:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(BlockDevice)}
        return BlockDevice(**fields)


@dataclass(frozen=True)
class EbsVolumeConfig(CommunicatorConfig, AccessConfig, RunConfig):
    """One ``"type": "amazon-ebsvolume"`` builder block."""

    #: rendered by :meth:`render_volumes` at run time (the tags later still, with the source AMI's data)
    ebs_volumes: list[VolumeDevice] = option(factory=list, render=False)
    ena_support: bool | None = option(None)
    sriov_support: bool = option(False)
    run_volume_tags: dict[str, str] = option(factory=dict, render=False)
    run_volume_tag: list[NameValue] = option(factory=list, render=False)

    def render_volumes(self, info: BuildInfo) -> EbsVolumeConfig:
        """This config with the string fields of ``ebs_volumes`` rendered, except ``tags``."""
        data = {"BuildRegion": self.region}
        volumes = []
        for device in self.ebs_volumes:
            strings: dict[str, Any] = {
                f.name: render_late(value, data, info, f"ebs_volumes {f.name}")
                for f in dataclasses.fields(BlockDevice)
                if isinstance(value := getattr(device, f.name), str)
            }
            volumes.append(dataclasses.replace(device, **strings))
        return dataclasses.replace(self, ebs_volumes=volumes)

    def to_ebs_config(self) -> EbsConfig:
        shared: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(EbsConfig) if hasattr(self, f.name)
        }
        shared["launch_block_device_mappings"] = [v.to_block_device() for v in self.ebs_volumes]
        shared["ami_name"] = _NO_AMI
        return EbsConfig(**shared)

    def check(self) -> Iterator[str]:
        ebs = self.to_ebs_config()
        yield from ebs.check_communicator()
        yield from ebs._check_access()
        yield from ebs._check_run()
        yield from ebs._check_unsupported()  # each of ebs_volumes checks itself when decoded
        if self.spot_price and (self.ena_support or self.sriov_support):
            yield (
                "Spot instances do not support modification, which is required when either `ena_support` or "
                "`sriov_support` are set. Please ensure you use an AMI that already has either SR-IOV or ENA enabled."
            )

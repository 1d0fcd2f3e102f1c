"""The ``sleep`` provisioner (Packer 1.6): wait ``duration``; cancellable."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.template.decode import option
from imagesmith.template.values import Duration
from imagesmith.ui import Ui


@dataclass(frozen=True)
class SleepConfig:
    duration: Duration = option(Duration(0))


class SleepProvisioner(Provisioner):
    type_name = "sleep"
    config_class = SleepConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        await asyncio.sleep(max(float(self.config.duration), 0.0))

"""The ``breakpoint`` provisioner: pause the build until Enter is pressed (Packer 1.6.6's messages)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.template.decode import option
from imagesmith.ui import Ui


@dataclass(frozen=True)
class BreakpointConfig:
    disable: bool = option(False)
    note: str = option("")


class BreakpointProvisioner(Provisioner):
    type_name = "breakpoint"
    config_class = BreakpointConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        config: BreakpointConfig = self.config
        note = f' with note "{config.note}"' if config.note else ""
        if config.disable:
            ui.say(f"Breakpoint provisioner{note} disabled; continuing...")
            return
        ui.say(f"Pausing at breakpoint provisioner{note}.")
        # A UI that can't ask (machine-readable, no terminal) continues at once, as Packer does.
        with contextlib.suppress(RuntimeError, EOFError):
            await ui.ask("Press enter to continue.")

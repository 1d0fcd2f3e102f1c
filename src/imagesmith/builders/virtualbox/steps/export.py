"""StepExport: drop the SSH forwarding rule, then ``export`` to ``output_filename.format``."""

from __future__ import annotations

import os

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError


def export_path(state: VBoxState) -> str:
    cfg = state.config
    return os.path.join(cfg.output_directory, f"{cfg.output_filename}.{cfg.format}")


class Export(Step[VBoxState]):
    @property
    def name(self) -> str:
        return "StepExport"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.skip_export:
            ui.say("Skipping export of virtual machine...")
            return
        ui.say("Preparing to export machine...")
        try:
            if not cfg.skip_nat_mapping and cfg.communicator != "none":
                ui.message("Deleting forwarded port mapping for the communicator (SSH, WinRM, etc) "
                           f"(host port {state.ssh_host_port})")  # fmt: skip
                await state.driver.vboxmanage(commands.make_delete_nat_rule_command(cfg.vm_name))
            argv = commands.make_export_command(cfg.vm_name, export_path(state), cfg.export_opts)
            ui.say("Exporting virtual machine...")
            ui.message(f"Executing: {' '.join(argv)}")
            await state.driver.vboxmanage(argv)
        except ToolError as exc:
            raise fail(f"Error exporting virtual machine: {exc}") from exc

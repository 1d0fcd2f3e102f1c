"""StepExport: ``format: ovf``/``ova`` through VMware's ``ovftool`` (local drivers only).

Packer 1.6.6 checks that ``ovftool`` is on PATH before its first step (``VerifyOvfTool``) and,
after the ``.vmx`` is cleaned, runs ``ovftool [ovftool_options...] OUT/VM.vmx OUT/VM.FORMAT``;
the package lands next to the VM's files in ``output_directory``.
"""

from __future__ import annotations

import os
import shutil

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.core.steps import Step, fail
from imagesmith.errors import BuildError
from imagesmith.run import quote_argv, run

OVFTOOL = "ovftool"
MISSING = (
    "Couldn't find ovftool in path! Please either set `skip_export = true` and remove the `format` option "
    "from your template, or make sure ovftool is installed on your build system. "
)


def verify_ovftool(skip_export: bool, which: object = shutil.which) -> None:
    """Packer's ``VerifyOvfTool``: an export needs ``ovftool`` on PATH."""
    look = which if callable(which) else shutil.which
    if not skip_export and not look(OVFTOOL):
        raise BuildError(MISSING)


def export_args(options: list[str], output_dir: str, vm_name: str, fmt: str) -> list[str]:
    """``ovftool_options`` then the source ``.vmx`` and the target (Go's ``filepath.Join``: cleaned)."""
    return [*options, os.path.normpath(os.path.join(output_dir, f"{vm_name}.vmx")),
            os.path.normpath(os.path.join(output_dir, f"{vm_name}.{fmt}"))]  # fmt: skip


def ovftool_failure(stdout: str, stderr: str) -> str:
    """Packer's ``runAndLog`` message: stderr, or stdout when stderr is empty."""
    return f"VMware error: {stderr.strip() or stdout.strip()}"


class Export(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepExport"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.skip_export:
            ui.say("Skipping export of virtual machine...")
            return
        os.makedirs(cfg.output_directory, mode=0o755, exist_ok=True)
        ui.say("Exporting virtual machine...")
        argv = [OVFTOOL, *export_args(cfg.ovftool_options, cfg.output_directory, cfg.vm_name, cfg.format)]
        ui.message(f"Executing: {quote_argv(argv)}")
        done = await run(argv, check=False, what="ovftool")
        if done.returncode != 0:
            message = ovftool_failure(done.text, done.stderr)
            raise fail(f"Error performing ovftool export: {message}\n(command: {quote_argv(argv)})")

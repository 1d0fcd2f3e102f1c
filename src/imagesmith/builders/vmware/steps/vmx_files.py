"""stepCreateVMX, StepConfigureVMX and StepCleanVMX: writing and editing the ``.vmx``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from imagesmith.builders.vmware.config import VmwareIsoConfig
from imagesmith.builders.vmware.network import NetworkError, read_network_map
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.vmx import read_vmx, write_vmx
from imagesmith.builders.vmware.vmx_create import make_template_data, make_vmx, network_fields
from imagesmith.builders.vmware.vmx_edit import clean_vmx, configure_vmx
from imagesmith.core.render import go_struct, render_runtime
from imagesmith.core.steps import Step, fail
from imagesmith.errors import RenderError


def _read_template(path: str, what: str) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"Error reading {what}: open {path}: {os.strerror(exc.errno or 0)}") from exc


class CreateVmx(Step[VmwareState]):
    """Render the ``.vmx`` (Packer's default or ``vmx_template_path``) into ``output_directory``."""

    def __init__(self, config: VmwareIsoConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return "stepCreateVMX"

    async def run(self, state: VmwareState) -> None:
        cfg = self.config
        state.ctx.ui.say("Building and writing VMX file")
        template = _read_template(cfg.vmx_template_path, "VMX template")
        disk_template = _read_template(cfg.vmx_disk_template_path, "VMX disk template")
        try:
            known = frozenset(read_network_map())
        except NetworkError as exc:
            raise fail(str(exc)) from exc
        connection = network_fields(cfg.network, known)
        state.network = cfg.network
        fields = make_template_data(cfg, state.iso_path, connection)

        def render(text: str, data: Mapping[str, object]) -> str:
            return render_runtime(text, state.ctx.info, go_struct("*iso.vmxTemplateData", **data))

        try:
            data = make_vmx(cfg, fields, template, disk_template, render)
        except RenderError as exc:
            raise fail(f"Error processing VMX template: {exc}") from exc
        state.temporary_devices.append(f"{fields['CDROMType']}0:{fields['CDROMType_PrimarySecondary']}")
        state.vmx_path = os.path.join(cfg.output_directory, f"{cfg.vm_name}.vmx")
        write_vmx(state.vmx_path, data)


class ConfigureVmx(Step[VmwareState]):
    """Apply ``vmx_data`` (before the run) or ``vmx_data_post`` (after it), attaching the build's
    floppy (not after the run: ``skip_floppy``) and the ``cd_files`` CD. The CD's slot follows
    ``disk_adapter``/``cdrom_adapter`` as Packer passes them to each of its two calls."""

    def __init__(
        self, custom: Mapping[str, str], *, skip_floppy: bool = False, disk_adapter: str = "", cdrom_adapter: str = ""
    ) -> None:
        self.custom = custom
        self.skip_floppy = skip_floppy
        self.adapters = (disk_adapter, cdrom_adapter)

    @property
    def name(self) -> str:
        return "StepConfigureVMX"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        floppy = "" if self.skip_floppy else state.floppy_path
        cd = (state.cd_path, *self.adapters) if state.cd_path else None
        try:
            data = configure_vmx(read_vmx(state.vmx_path), self.custom, cfg.vm_name, cfg.display_name, floppy, cd)
        except KeyError as exc:
            raise fail("Error: Could not get value of displayName from VMX data") from exc
        if floppy:
            state.temporary_devices.append("floppy0")
        write_vmx(state.vmx_path, data)


class CleanVmx(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepCleanVMX"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        state.ctx.ui.say("Cleaning VMX prior to finishing up...")
        data, messages = clean_vmx(read_vmx(state.vmx_path), state.temporary_devices,
                                   remove_ethernet=cfg.vmx_remove_ethernet_interfaces,
                                   vnc_enabled=not cfg.disable_vnc)  # fmt: skip
        for message in messages:
            state.ctx.ui.message(message)
        write_vmx(state.vmx_path, data)

"""Fixers for local hypervisor builders: virtualbox, vmware, parallels, hyper-v and qemu."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imagesmith.template.fix.mapdecode import (
    Builder,
    DecodeError,
    Template,
    decode_list,
    field_value,
    fix_builders_of_type,
    rename_key,
    weak_decode_map,
)

_GO_MIN_INT64 = -(2**63)


def fix_virtualbox_ga_attach(template: Template) -> Template:
    """``virtualbox`` builders: boolean ``guest_additions_attach`` becomes ``guest_additions_mode``."""

    def change(builder: Builder, where: str) -> None:
        attach = builder.get("guest_additions_attach")
        if isinstance(attach, bool):
            del builder["guest_additions_attach"]
            builder["guest_additions_mode"] = "attach" if attach else "upload"

    return fix_builders_of_type(template, lambda kind: kind == "virtualbox", change)


def _rename_override(raw: Any) -> dict[str, Any] | None:
    """A provisioner with a ``virtualbox`` override, renamed to ``virtualbox-iso``; None when unchanged."""
    try:
        provisioner = weak_decode_map(raw)
    except DecodeError:
        return None  # Packer ignores provisioners that are not objects here
    if provisioner is None or "override" not in provisioner:
        return None
    override = weak_decode_map(provisioner["override"])  # a bad override is an error, as in Packer
    if override is None or "virtualbox" not in override:
        return None
    override["virtualbox-iso"] = override.pop("virtualbox")
    provisioner["override"] = override
    return provisioner


def fix_virtualbox_rename(template: Template) -> Template:
    """``virtualbox`` builders become ``virtualbox-iso``, and so do provisioner overrides for them."""
    out = fix_builders_of_type(template, lambda kind: kind == "virtualbox", _set_type("virtualbox-iso"), False)
    provisioners = decode_list(field_value(out, "Provisioners"), "Provisioners", weak=True) or []
    for index, raw in enumerate(provisioners):
        renamed = _rename_override(raw)
        if renamed is not None:
            provisioners[index] = renamed
    if provisioners:
        out["provisioners"] = provisioners
    return out


def _set_type(new_type: str) -> Callable[[Builder, str], None]:
    def change(builder: Builder, where: str) -> None:
        builder["type"] = new_type

    return change


def fix_vmware_rename(template: Template) -> Template:
    """``vmware`` builders become ``vmware-iso``."""
    return fix_builders_of_type(template, lambda kind: kind == "vmware", _set_type("vmware-iso"))


def fix_proxmox_type(template: Template) -> Template:
    """``proxmox`` builders become ``proxmox-iso``."""
    return fix_builders_of_type(template, lambda kind: kind == "proxmox", _set_type("proxmox-iso"))


def _is_parallels(kind: str) -> bool:
    return kind in ("parallels-iso", "parallels-pvm")


def fix_parallels_headless(template: Template) -> Template:
    """Parallels builders lose ``headless``."""
    return fix_builders_of_type(template, _is_parallels, lambda builder, where: builder.pop("headless", None))


def fix_parallels_deprecations(template: Template) -> Template:
    """Parallels builders lose ``parallels_tools_host_path``; ``guest_os_distribution`` becomes ``guest_os_type``."""

    def change(builder: Builder, where: str) -> None:
        builder.pop("parallels_tools_host_path", None)
        rename_key(builder, "guest_os_distribution", "guest_os_type")

    return fix_builders_of_type(template, _is_parallels, change)


def fix_vmware_compaction(template: Template) -> Template:
    """``vmware-iso`` on ``esx5`` with a non-thin disk gets ``skip_compaction: true`` (and the old default disk)."""

    def change(builder: Builder, where: str) -> None:
        if builder.get("remote_type") != "esx5":
            return
        if "disk_type_id" not in builder:
            builder["disk_type_id"] = "zeroedthick"
        elif not isinstance(builder["disk_type_id"], str) or builder["disk_type_id"] == "thin":
            return
        skip = builder.get("skip_compaction", False)
        if isinstance(skip, bool):
            builder["skip_compaction"] = True
        # a non-boolean skip_compaction is left alone, as in Packer

    return fix_builders_of_type(template, lambda kind: kind == "vmware-iso", change)


def fix_hyperv_deprecations(template: Template) -> Template:
    """``hyperv-iso`` builders lose ``vhd_temp_path``."""
    return fix_builders_of_type(
        template, lambda kind: kind == "hyperv-iso", lambda builder, where: builder.pop("vhd_temp_path", None)
    )


def fix_hyperv_vmxc_typo(template: Template) -> Template:
    """``hyperv-vmcx`` builders: ``clone_from_vmxc_path`` becomes ``clone_from_vmcx_path``."""
    return fix_builders_of_type(
        template,
        lambda kind: kind == "hyperv-vmcx",
        lambda builder, where: rename_key(builder, "clone_from_vmxc_path", "clone_from_vmcx_path"),
    )


def fix_hyperv_cpu_and_ram(template: Template) -> Template:
    """Hyper-V builders: ``cpu`` becomes ``cpus`` and ``ram_size`` becomes ``memory``."""

    def change(builder: Builder, where: str) -> None:
        rename_key(builder, "cpu", "cpus")
        rename_key(builder, "ram_size", "memory")

    return fix_builders_of_type(template, lambda kind: kind in ("hyperv-vmcx", "hyperv-iso"), change)


def _go_int(value: float) -> int:
    """Go's ``int(f)`` on amd64: truncation, and the minimum int64 when out of range."""
    if not -(2.0**63) <= value < 2.0**63:
        return _GO_MIN_INT64
    return int(value)


def fix_qemu_disk_size(template: Template) -> Template:
    """``qemu`` builders: a numeric ``disk_size`` (megabytes) becomes a string such as ``"10240M"``."""

    def change(builder: Builder, where: str) -> None:
        size = builder.get("disk_size")
        if isinstance(size, (int, float)) and not isinstance(size, bool):
            builder["disk_size"] = f"{_go_int(float(size))}M"

    return fix_builders_of_type(template, lambda kind: kind == "qemu", change)


def fix_qemu_host_port(template: Template) -> Template:
    """``qemu`` builders: ``ssh_host_port_min/max`` become ``host_port_min/max`` (overwriting them)."""

    def change(builder: Builder, where: str) -> None:
        rename_key(builder, "ssh_host_port_min", "host_port_min")
        rename_key(builder, "ssh_host_port_max", "host_port_max")

    return fix_builders_of_type(template, lambda kind: kind == "qemu", change)

"""Edits of the ``.vmx`` during a build (pure functions on the parsed data, each returning a new dict):
Packer's ``StepConfigureVMX`` (before the run with ``vmx_data``, after it with ``vmx_data_post``),
``StepConfigureVNC`` and ``StepCleanVMX``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from imagesmith.builders.vmware.vmx import VmxData
from imagesmith.builders.vmware.vmx_create import disk_and_cdrom

_GENERATED_ADDRESS = re.compile(r"^ethernet\d+\.generatedaddress", re.IGNORECASE)


def configure_vmx(
    data: Mapping[str, str],
    custom: Mapping[str, str],
    vm_name: str,
    display_name: str = "",
    floppy_path: str = "",
    cd: tuple[str, str, str] | None = None,
) -> VmxData:
    """``custom`` (``vmx_data``/``vmx_data_post``) applied over ``data``, plus Packer's fixed edits.

    ``cd`` is ``(cd_path, disk_adapter_type, cdrom_adapter_type)`` for ``cd_files``' image.
    Raises ``KeyError`` when no ``displayName`` can be found (Packer's "Could not get value of
    displayName").
    """
    out = {k: v for k, v in data.items() if not _GENERATED_ADDRESS.match(k)}
    out["msg.autoanswer"] = "true"
    out["uuid.action"] = "create"
    for key, value in custom.items():
        out[key.lower()] = value
    if floppy_path:
        out.update({"floppy0.present": "TRUE", "floppy0.filetype": "file", "floppy0.filename": floppy_path})
    if cd is not None and cd[0]:
        buses = disk_and_cdrom(cd[1], cd[2])
        prefix = f"{buses.cdrom_type}1:{buses.cdrom_unit}"
        # mixed case on purpose: Packer writes these keys as spelled, not lower-cased
        out.update({f"{prefix}.present": "TRUE", f"{prefix}.fileName": cd[0], f"{prefix}.deviceType": "cdrom-image"})
    if display_name:
        out["displayname"] = display_name
    elif "displayname" not in out:
        raise KeyError("displayname")
    out["extendedconfigfile"] = f"{display_name or vm_name}.vmxf"
    return out


def display_name_of(data: Mapping[str, str], display_name: str) -> str:
    return display_name or data.get("displayname", "")


def configure_vnc(data: Mapping[str, str], address: str, port: int, password: str) -> VmxData:
    """VMware's own VNC server on ``address:port`` (with ``password`` unless empty)."""
    out = dict(data)
    out.update({"remotedisplay.vnc.enabled": "TRUE", "remotedisplay.vnc.port": str(port),
                "remotedisplay.vnc.ip": address})  # fmt: skip
    if password:
        out["remotedisplay.vnc.password"] = password
    return out


def clean_vmx(
    data: Mapping[str, str], temporary_devices: Sequence[str], *, remove_ethernet: bool, vnc_enabled: bool
) -> tuple[VmxData, list[str]]:
    """The ``.vmx`` made ready to ship: the build's floppy removed, its ISOs detached (the CD-ROM
    becomes the host's drive), VNC off, and the NICs removed if asked. Also returns the messages
    Packer shows for each change."""
    out = dict(data)
    messages: list[str] = []
    for device in temporary_devices:
        if device.startswith("floppy"):
            messages.append(f"Unmounting {device} from VMX...")
            out = {k: v for k, v in out.items() if not k.startswith(f"{device}.")}
            out[f"{device}.present"] = "FALSE"
        elif out.get(f"{device}.devicetype", "").startswith("cdrom-"):
            messages.append(f"Detaching ISO from CD-ROM device {device}...")
            out.update({f"{device}.devicetype": "cdrom-raw", f"{device}.filename": "auto detect",
                        f"{device}.clientdevice": "TRUE"})  # fmt: skip
        elif device.startswith("ethernet") and remove_ethernet:
            messages.append(f"Removing {device} interface...")
            out = {k: v for k, v in out.items() if not k.startswith(f"{device}.")}
        elif f"{device}.present" in out:
            messages.append(f"Disabling device {device} of an unknown device type...")
            out[f"{device}.present"] = "FALSE"
    if vnc_enabled:
        messages.append("Disabling VNC server...")
        out["remotedisplay.vnc.enabled"] = "FALSE"
    if remove_ethernet:
        messages.append("Removing Ethernet Interfaces...")
        out = {k: v for k, v in out.items() if not k.startswith("ethernet")}
    return out, messages

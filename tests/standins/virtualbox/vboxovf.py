"""``export`` and ``import`` for the stand-in: an OVF 1.0 envelope with VirtualBox's ``vbox:Machine``
section (where the Vagrant post-processor finds ``<Adapter slot="0" ... MACAddress=...>`` on one
line) and each hard disk converted to a streamOptimized VMDK by qemu-img; ``.ova`` is a tar of both.
"""

from __future__ import annotations

import hashlib
import re
import string
import subprocess
import tarfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from vboxstate import VBoxError

OVF_NS = (
    'xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" '
    'xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" '
    'xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" '
    'xmlns:vbox="http://www.virtualbox.org/ovf/machine"'
)

OVF_TEMPLATE = string.Template("""\
<?xml version="1.0"?>
<Envelope ovf:version="1.0" xml:lang="en-US" $ns>
  <References>
$refs  </References>
  <DiskSection>
    <Info>List of the virtual disks used in the package</Info>
$disks  </DiskSection>
  <VirtualSystem ovf:id=$name>
    <Info>A virtual machine</Info>
    <OperatingSystemSection ovf:id="80">
      <vbox:OSType ovf:required="false">$ostype</vbox:OSType>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>$cpus</rasd:VirtualQuantity></Item>
      <Item><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>$memory</rasd:VirtualQuantity></Item>
$items    </VirtualHardwareSection>
    <vbox:Machine ovf:required="false" version="1.16-linux" uuid="{$uuid}" name=$name OSType="$ostype">
      <Hardware>
        <Network>
          <Adapter slot="0" enabled="true" MACAddress="$mac" type="$nictype">
            <NAT/>
          </Adapter>
        </Network>
      </Hardware>
    </vbox:Machine>
  </VirtualSystem>
</Envelope>
""")


def _qemu_img(*args: str) -> None:
    done = subprocess.run(["qemu-img", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise VBoxError(
            f"Could not create the exported medium: {done.stderr.strip()}", "VBOX_E_FILE_ERROR (0x80bb0004)"
        )


def _disks(vm: dict[str, Any]) -> list[str]:
    return [a["medium"] for _, a in sorted(vm["attachments"].items()) if a["type"] == "hdd"]


def make_ovf(vm: dict[str, Any], disk_files: list[str], sizes: list[int]) -> str:
    s = vm["settings"]
    refs = "".join(f'    <File ovf:id="file{i + 1}" ovf:href="{name}"/>\n' for i, name in enumerate(disk_files))
    disks = "".join(
        f'    <Disk ovf:capacity="{size}" ovf:diskId="vmdisk{i + 1}" ovf:fileRef="file{i + 1}" '
        'ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>\n'
        for i, size in enumerate(sizes)
    )
    items = "".join(
        f"      <Item>\n        <rasd:HostResource>/disk/vmdisk{i + 1}</rasd:HostResource>\n"
        f"        <rasd:InstanceID>{10 + i}</rasd:InstanceID>\n        <rasd:ResourceType>17</rasd:ResourceType>\n"
        "      </Item>\n"
        for i in range(len(disk_files))
    )
    return OVF_TEMPLATE.substitute(
        ns=OVF_NS, refs=refs, disks=disks, items=items, name=quoteattr(vm["name"]), ostype=vm["ostype"],
        cpus=s["cpus"], memory=s["memory"], uuid=vm["uuid"], mac=s["macaddress1"], nictype=s.get("nictype1", "82540EM"),
    )  # fmt: skip


def write_manifest(folder: Path, stem: str, names: list[str]) -> str:
    """``<stem>.mf``: a SHA256 line per file, as VirtualBox 6 writes for ``export --manifest``."""
    lines = [f"SHA256 ({name}) = {hashlib.sha256((folder / name).read_bytes()).hexdigest()}\n" for name in names]
    (folder / f"{stem}.mf").write_text("".join(lines))
    return f"{stem}.mf"


def export(vm: dict[str, Any], output: str, manifest: bool = False) -> None:
    """Write ``output`` (.ovf: next to ``<stem>-disk00N.vmdk``; .ova: a tar of those), with
    ``manifest`` a ``<stem>.mf`` too."""
    out = Path(output)
    if out.suffix not in (".ovf", ".ova"):
        raise VBoxError(f"Unknown appliance format for '{output}'")
    stem = out.stem
    folder = out.parent
    if not folder.is_dir():
        raise VBoxError(
            f"Could not create the appliance file '{output}' (VERR_PATH_NOT_FOUND)", "VBOX_E_FILE_ERROR (0x80bb0004)"
        )
    names, sizes = [], []
    for i, disk in enumerate(_disks(vm)):
        name = f"{stem}-disk{i + 1:03d}.vmdk"
        _qemu_img("convert", "-O", "vmdk", "-o", "subformat=streamOptimized", disk, str(folder / name))
        info = subprocess.run(["qemu-img", "info", disk], capture_output=True, text=True).stdout
        match = re.search(r"virtual size: .*\((\d+) bytes\)", info)
        names.append(name)
        sizes.append(int(match.group(1)) if match else 0)
    ovf_path = folder / f"{stem}.ovf"
    ovf_path.write_text(make_ovf(vm, names, sizes))
    members = [ovf_path.name, *([write_manifest(folder, stem, [ovf_path.name, *names])] if manifest else []), *names]
    if out.suffix == ".ovf":
        return
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name in members:
            tar.add(folder / name, arcname=name)
    for name in members:
        (folder / name).unlink()


def read_ovf(path: str) -> tuple[str, list[str], str]:
    """(OS type, disk file paths, MAC of adapter 0) of an appliance written by :func:`export`
    (or by VirtualBox). An .ova is read from its unpacked copy next to it."""
    src = Path(path)
    if not src.exists():
        raise VBoxError(
            f"Could not open the appliance '{path}' (VERR_FILE_NOT_FOUND)", "VBOX_E_FILE_ERROR (0x80bb0004)"
        )
    text = src.read_text(errors="replace")
    ostype = re.search(r"<vbox:OSType[^>]*>([^<]+)<", text) or re.search(r'OSType="([^"]+)"', text)
    mac = re.search(r'<Adapter slot="0"[^>]*MACAddress="([0-9A-Fa-f]{12})"', text)
    files = [str(src.parent / m) for m in re.findall(r'ovf:href="([^"]+)"', text)]
    return (ostype.group(1) if ostype else "Other"), files, (mac.group(1) if mac else "")

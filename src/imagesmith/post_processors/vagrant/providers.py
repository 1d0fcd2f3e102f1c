"""What goes into a box for each Vagrant provider imagesmith can package: libvirt, docker, virtualbox, vmware.

A provider looks at the input artifact and returns a :class:`ProviderBox`: the files to put in
the box (by name in the box → source path), the ``metadata.json`` contents and the provider's
part of the Vagrantfile, as Packer 1.6.6's ``LibVirtProvider``, ``DockerProvider`` and ``VMwareProvider`` make them.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imagesmith.core.plugin import Artifact
from imagesmith.errors import BuildError
from imagesmith.ui import Ui

LIBVIRT_VAGRANTFILE = """
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "{driver}"
  end
end
"""

DOCKER_VAGRANTFILE = """
Vagrant.configure("2") do |config|
\tconfig.vm.provider :docker do |docker, override|
\t\tdocker.image = "{image}"
\tend
end
"""

_UNITS = {"b": -2, "k": -1, "m": 0, "g": 1, "t": 2, "p": 3, "e": 4}  # powers of 1024 relative to MiB
_DRIVERS = {"none": "qemu", "tcg": "qemu", "hvf": "qemu", "kvm": "kvm"}


@dataclass(frozen=True)
class ProviderBox:
    """A provider's contribution to the box."""

    vagrantfile: str
    metadata: Mapping[str, Any]
    files: Mapping[str, str] = field(default_factory=dict)  # name in the box → source path
    #: Packer's ``KeepInputArtifact()``: the default keep decision for the input artifact
    keep_input: bool = False
    #: a directory of files unpacked for the box (an OVA's members), removed once the box is written
    temp_dir: str = ""


def size_in_megabytes(size: str) -> int:
    """A qemu ``disk_size`` (``10240``, ``20G``, ``512k``; default unit M) in MiB, as Packer computes it.

    Like Go's ``strconv.ParseUint`` failing, a number that doesn't parse counts as 0.
    """
    if not size:
        raise BuildError("the qemu artifact has no disk size (diskSize state)")
    unit = size[-1].lower()
    number = size
    if unit.isdigit():
        unit = "m"
    else:
        number = size[:-1]
    if unit not in _UNITS:
        raise BuildError(f"Unknown size unit {size[-1]}")
    value = int(number) if number.isascii() and number.isdigit() else 0
    power = _UNITS[unit]
    return value * (1 << (10 * power)) if power >= 0 else value >> (-10 * power)


def virtual_size_gb(disk_size: str) -> int:
    """The box's ``virtual_size``: the disk size in GiB, rounded up so the disk never shrinks."""
    megabytes = size_in_megabytes(disk_size)
    return megabytes // 1024 + (1 if megabytes % 1024 else 0)


def _state_str(artifact: Artifact, name: str) -> str:
    value = artifact.state(name)
    if not isinstance(value, str):
        raise BuildError(
            f"The artifact has no {name} state: the libvirt provider needs a qemu builder artifact "
            f"(builder id transcend.qemu), got {artifact.builder_id or 'an artifact without builder id'}"
        )
    return value


def make_libvirt_box(ui: Ui, artifact: Artifact) -> ProviderBox:
    """box.img (the artifact's disk, found by its ``diskName``), metadata with format and size in GB."""
    disk_name = _state_str(artifact, "diskName")
    disk = ""
    for path in artifact.files:
        if path.endswith("/" + disk_name):
            ui.message(f"Copying from artifact: {path}")
            disk = path
    if not disk:
        raise BuildError(
            f"None of the artifact's files is the disk {disk_name!r} (files: {', '.join(artifact.files) or 'none'})"
        )
    fmt = _state_str(artifact, "diskType")
    size = virtual_size_gb(_state_str(artifact, "diskSize"))
    domain = _state_str(artifact, "domainType")
    driver = _DRIVERS.get(domain)
    if driver is None:
        raise BuildError(f"Unknown libvirt domain type: {domain}")
    return ProviderBox(
        vagrantfile=LIBVIRT_VAGRANTFILE.format(driver=driver),
        metadata={"provider": "libvirt", "format": fmt, "virtual_size": size},
        files={"box.img": disk},
    )


def make_docker_box(ui: Ui, artifact: Artifact) -> ProviderBox:
    """No files: the Vagrantfile names the image by the artifact's id."""
    return ProviderBox(
        vagrantfile=DOCKER_VAGRANTFILE.format(image=artifact.id),
        metadata={"provider": "docker"},
    )


def make_vmware_box(ui: Ui, artifact: Artifact) -> ProviderBox:
    """Every file of the artifact, by base name; an empty Vagrantfile part (``vmware_desktop``)."""
    files: dict[str, str] = {}
    for path in artifact.files:
        ui.message(f"Copying: {path}")
        files[os.path.basename(path)] = path
    return ProviderBox(vagrantfile="", metadata={"provider": "vmware_desktop"}, files=files)


VBOX_VAGRANTFILE = """
Vagrant.configure("2") do |config|
  config.vm.base_mac = "{mac}"
end
"""
_BASE_MAC = re.compile(rb'<Adapter slot="0".+?MACAddress="(.+?)"')


def unpack_ova(path: str, into: str) -> dict[str, str]:
    """The regular files of the OVA (a tar) at ``path``, written under ``into`` by base name
    (as Packer's ``DecompressOva``); returns name → unpacked path."""
    files: dict[str, str] = {}
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                source = tar.extractfile(member) if member.isfile() else None
                if source is None:
                    continue
                name = os.path.basename(member.name)
                files[name] = os.path.join(into, name)
                with source, open(files[name], "wb") as dest:
                    shutil.copyfileobj(source, dest, 1 << 20)
    except (OSError, tarfile.TarError) as exc:
        raise BuildError(f"Error unpacking OVA {path}: {exc}") from exc
    return files


def make_virtualbox_box(ui: Ui, artifact: Artifact) -> ProviderBox:
    """Every file of the artifact (an ``.ova`` unpacked), the one ``.ovf`` renamed ``box.ovf``; the
    Vagrantfile sets ``base_mac`` from adapter 0 of the OVF (Packer's ``VBoxProvider``)."""
    files: dict[str, str] = {}
    temp_dir = ""
    try:
        for path in artifact.files:
            if path.endswith(".ova"):
                ui.message(f"Unpacking OVA: {path}")
                temp_dir = temp_dir or tempfile.mkdtemp(prefix=".imagesmith-ova-", dir=os.path.dirname(path) or ".")
                files.update(unpack_ova(path, temp_dir))
                continue
            ui.message(f"Copying from artifact: {path}")
            files[os.path.basename(path)] = path
        return _finish_virtualbox_box(ui, files, temp_dir)
    except BaseException:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise


def _finish_virtualbox_box(ui: Ui, files: dict[str, str], temp_dir: str) -> ProviderBox:
    ovfs = [name for name in files if name.endswith(".ovf")]
    if len(ovfs) > 1:
        raise BuildError("More than one OVF file in VirtualBox artifact.")
    if not ovfs:
        raise BuildError("ovf file couldn't be found")
    ui.message("Renaming the OVF to box.ovf...")
    files["box.ovf"] = files.pop(ovfs[0])
    try:
        with open(files["box.ovf"], "rb") as f:
            match = _BASE_MAC.search(f.read())
    except OSError as exc:
        raise BuildError(f"Error reading the OVF {files['box.ovf']}: {exc.strerror}") from exc
    if match is None:
        raise BuildError("can't find base mac address in OVF")
    mac = match.group(1).decode("utf-8", "replace")
    return ProviderBox(vagrantfile=VBOX_VAGRANTFILE.format(mac=mac), metadata={"provider": "virtualbox"}, files=files,
                       temp_dir=temp_dir)  # fmt: skip


ProviderFn = Callable[[Ui, Artifact], ProviderBox]

#: Providers imagesmith packages. Packer 1.6.6 also knows aws, azure, digitalocean, google,
#: hyperv, lxc, parallels and scaleway, whose builders imagesmith lacks.
PROVIDERS: Mapping[str, ProviderFn] = {
    "libvirt": make_libvirt_box,
    "docker": make_docker_box,
    "virtualbox": make_virtualbox_box,
    "vmware": make_vmware_box,
}

"""The qemu builder's configuration: Packer 1.6.6's keys, defaults and prepare-time rules.

``boot_command`` and ``qemuargs`` are rendered at run time (Packer's ``InterpolateFilter.Exclude``),
with ``{{ .HTTPIP }}``, ``{{ .HTTPPort }}``, ``{{ .Name }}`` (and, for qemuargs, ``.HTTPDir``,
``.OutputDir``, ``.SSHHostPort``). Defaults that depend on the build name (``output_directory``,
``vm_name``) are resolved by :meth:`QemuConfig.resolved`.

imagesmith additions: ``http_content`` and ``firmware`` (from later Packer releases);
``boot_command_driver`` (``qmp``, the default, or ``vnc`` as Packer types). ``http_bind_address``
defaults to ``127.0.0.1`` (Packer: ``0.0.0.0``); the SSH forward listens on ``127.0.0.1`` only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.bootcommand import check_boot_command
from imagesmith.communicator.ssh_config import CommunicatorConfig
from imagesmith.steps.checksum import parse_checksum
from imagesmith.template.decode import option
from imagesmith.template.values import Duration

ACCELERATORS = ("none", "kvm", "tcg", "xen", "hax", "hvf", "whpx")
DISK_INTERFACES = ("ide", "scsi", "virtio", "virtio-scsi")
DISK_CACHES = ("writethrough", "writeback", "none", "unsafe", "directsync")
DISK_DISCARDS = ("unmap", "ignore")
DETECT_ZEROES = ("unmap", "on", "off")
_SIZE = re.compile(r"^\d+[bkmgt]?$")


@dataclass(frozen=True)
class QemuImgArgs:
    convert: list[str] = option(factory=list)
    create: list[str] = option(factory=list)
    resize: list[str] = option(factory=list)


@dataclass(frozen=True)
class QemuConfig(CommunicatorConfig):
    """One ``"type": "qemu"`` builder block."""

    # ISO (commonsteps.ISOConfig)
    iso_url: str = option("")
    iso_urls: list[str] = option(factory=list)
    iso_checksum: str = option("")
    iso_target_path: str = option("")
    iso_target_extension: str = option("iso")
    iso_skip_cache: bool = option(False)
    # HTTP (commonsteps.HTTPConfig)
    http_directory: str = option("")
    http_content: dict[str, str] = option(factory=dict)
    http_port_min: int = option(8000)
    http_port_max: int = option(9000)
    http_bind_address: str = option("")
    # boot (bootcommand.VNCConfig)
    boot_command: list[str] = option(factory=list, render=False)
    boot_wait: Duration = option(Duration(10))
    boot_key_interval: Duration = option(Duration(0))
    boot_keygroup_interval: Duration = option(Duration(0))
    disable_vnc: bool = option(False)
    boot_command_driver: str = option("qmp")
    # shutdown (shutdowncommand.ShutdownConfig)
    shutdown_command: str = option("")
    shutdown_timeout: Duration = option(Duration(300))
    # floppy and CD (commonsteps.FloppyConfig, CDConfig)
    floppy_files: list[str] = option(factory=list)
    floppy_dirs: list[str] = option(factory=list)
    floppy_label: str = option("")
    cd_files: list[str] = option(factory=list)
    cd_label: str = option("")
    # qemu
    accelerator: str = option("")
    disk_additional_size: list[str] = option(factory=list)
    cpus: int = option(0)
    disk_interface: str = option("")
    disk_size: str = option("")
    skip_resize_disk: bool = option(False)
    disk_cache: str = option("")
    disk_discard: str = option("")
    disk_detect_zeroes: str = option("")
    skip_compaction: bool = option(False)
    disk_compression: bool = option(False)
    format: str = option("")
    headless: bool = option(False)
    disk_image: bool = option(False)
    use_backing_file: bool = option(False)
    machine_type: str = option("")
    memory: int = option(0)
    net_device: str = option("")
    net_bridge: str = option("")
    output_directory: str = option("")
    qemuargs: list[list[str]] = option(factory=list, render=False)
    qemu_img_args: QemuImgArgs = option(factory=QemuImgArgs)
    qemu_binary: str = option("")
    qmp_enable: bool = option(False)
    qmp_socket_path: str = option("")
    use_default_display: bool = option(False)
    display: str = option("")
    firmware: str = option("")
    host_port_min: int = option(0)
    host_port_max: int = option(0)
    skip_nat_mapping: bool = option(False)
    ssh_host_port_min: int = option(0)  # deprecated spellings (Packer's comm_config.go)
    ssh_host_port_max: int = option(0)
    ssh_skip_nat_mapping: bool = option(False)  # removed, like the next two: `fix` rewrites them
    iso_checksum_type: str = option("")
    iso_checksum_url: str = option("")
    vnc_bind_address: str = option("")
    vnc_use_password: bool = option(False)
    vnc_port_min: int = option(5900)
    vnc_port_max: int = option(6000)
    vm_name: str = option("")
    cdrom_interface: str = option("")
    run_once: bool = option(False)
    # imagesmith: commands run in the guest after a provisioner layer is restored (docs/layers.md)
    layer_restore_command: list[str] = option(factory=list)

    def resolved(self, build_name: str) -> QemuConfig:
        """A copy with Packer's defaults filled in (``Config.Prepare``'s assignments)."""
        size = self.disk_size if self.disk_size not in ("", "0") else "40960M"
        if size.isdigit():
            size += "M"
        fmt = self.format or "qcow2"
        skip_compaction = self.skip_compaction or fmt != "qcow2" or self.use_backing_file
        output = self.output_directory or f"output-{build_name}"
        vm_name = self.vm_name or f"packer-{build_name}"
        return dataclasses.replace(
            self,
            disk_size=size,
            format=fmt,
            skip_compaction=skip_compaction,
            disk_compression=self.disk_compression and fmt == "qcow2",
            disk_cache=self.disk_cache or "writeback",
            disk_discard=self.disk_discard or "ignore",
            disk_detect_zeroes=self.disk_detect_zeroes or "off",
            machine_type=self.machine_type or "pc",
            output_directory=output,
            vm_name=vm_name,
            qemu_binary=self.qemu_binary or "qemu-system-x86_64",
            memory=self.memory if self.memory >= 10 else 512,
            cpus=max(self.cpus, 1),
            vnc_bind_address=self.vnc_bind_address or "127.0.0.1",
            net_device=self.net_device or "virtio-net",
            disk_interface=self.disk_interface or "virtio",
            iso_checksum="none" if self.iso_skip_cache else self.iso_checksum,
            qmp_enable=self.qmp_enable or bool(self.net_bridge) or self.vnc_use_password,
            boot_command_driver=self.boot_command_driver or "qmp",
            host_port_min=self.host_port_min or self.ssh_host_port_min or 2222,
            host_port_max=self.host_port_max or self.ssh_host_port_max or 4444,
        )

    @property
    def urls(self) -> list[str]:
        return list(self.iso_urls) if self.iso_urls else ([self.iso_url] if self.iso_url else [])

    def check(self) -> Iterator[str]:
        """Every prepare-time error of Packer's ``Config.Prepare``, plus the boot command's."""
        yield from self.check_communicator()
        yield from self._check_iso()
        if self.disk_size not in ("", "0") and not _SIZE.match(self.disk_size.lower()):
            yield "Invalid disk size."
        if self.format not in ("", "qcow2", "raw"):
            yield "invalid format, only 'qcow2' or 'raw' are allowed"
        if self.use_backing_file and not (self.disk_image and self.format in ("", "qcow2")):
            yield "use_backing_file can only be enabled for QCOW2 images and when disk_image is true"
        if self.disk_image and self.disk_additional_size:
            yield "disk_additional_size can only be used when disk_image is false"
        if self.skip_resize_disk and not self.disk_image:
            yield "skip_resize_disk can only be used when disk_image is true"
        if self.accelerator and self.accelerator not in ACCELERATORS:
            yield "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are allowed"
        for value, allowed, what in (
            (self.disk_interface, DISK_INTERFACES, "unrecognized disk interface type"),
            (self.disk_cache, DISK_CACHES, "unrecognized disk cache type"),
            (self.disk_discard, DISK_DISCARDS, "unrecognized disk discard type"),
            (self.disk_detect_zeroes, DETECT_ZEROES, "unrecognized disk detect zeroes setting"),
        ):
            if value and value not in allowed:
                yield what
        if self.vnc_port_min > self.vnc_port_max:
            yield "vnc_port_min must be less than vnc_port_max"
        if self.http_port_min > self.http_port_max:
            yield "http_port_min must be less than http_port_max"
        if self.host_port_min and self.host_port_max and self.host_port_min > self.host_port_max:
            yield "host_port_min must be less than host_port_max"
        if self.boot_command and self.disable_vnc and self.boot_command_driver == "vnc":
            yield "A boot command cannot be used when vnc is disabled."
        if self.boot_command_driver not in ("", "qmp", "vnc"):
            yield f"boot_command_driver must be qmp or vnc, not {self.boot_command_driver!r}"
        if self.shutdown_timeout < 0:
            yield "shutdown_timeout must not be negative"
        yield from check_boot_command(self.boot_command)

    def _check_iso(self) -> Iterator[str]:
        for key in ("iso_checksum_type", "iso_checksum_url", "ssh_skip_nat_mapping"):
            if getattr(self, key):
                yield (
                    f"Deprecated configuration key: '{key}'. Please call `packer fix`\nagainst your template to "
                    "update your template to be compatible with the current\nversion of Packer. Visit "
                    "https://www.packer.io/docs/commands/fix/ for more\ndetail."
                )
        if self.iso_url and self.iso_urls:
            yield "Only one of iso_url or iso_urls must be specified"
        elif not self.urls:
            yield "One of iso_url or iso_urls must be specified"
        if self.urls and not self.iso_skip_cache:
            try:
                parse_checksum(self.iso_checksum)
            except ValueError as exc:
                yield str(exc)

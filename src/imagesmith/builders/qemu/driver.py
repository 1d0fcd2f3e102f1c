"""The only code that runs qemu and qemu-img. Command lines are built by pure functions.

``make_qemu_args`` mirrors Packer's ``stepRun.getDefaultArgs`` + ``applyUserOverrides``: a map of
default switches, each replaced wholesale by the ``qemuargs`` rows that name the same switch
(rows joined without separator; an empty value keeps a bare switch), the net device re-added
when an overriding ``-device`` list lacks it. Unlike Packer (Go map order) the order is stable.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.errors import ToolError
from imagesmith.log import logger
from imagesmith.run import run, start, stop_process

QEMU_IMG = "qemu-img"
KVM_PROBE_TIMEOUT = 3.0


@dataclass
class RunInputs:
    """Run-time values ``make_qemu_args`` needs besides the config."""

    iso_path: str = ""
    cd_path: str = ""
    floppy_path: str = ""
    disk_paths: list[str] = field(default_factory=list)
    ssh_host_port: int = 0
    vnc_port: int = 0
    qmp_socket: str = ""
    accelerator: str = "tcg"


def make_create_args(cfg: QemuConfig, path: str, size: str, backing: str = "", backing_format: str = "") -> list[str]:
    """``qemu-img create -f FORMAT [qemu_img_args.create] [-b SRC -F FMT] PATH SIZE``."""
    args = [QEMU_IMG, "create", "-f", cfg.format, *cfg.qemu_img_args.create]
    if backing:
        args += ["-b", backing, "-F", backing_format or "qcow2"]
    return [*args, path, size]


def make_resize_args(cfg: QemuConfig, path: str) -> list[str]:
    """``qemu-img resize -f FORMAT [qemu_img_args.resize] PATH SIZE``."""
    return [QEMU_IMG, "resize", "-f", cfg.format, *cfg.qemu_img_args.resize, path, cfg.disk_size]


def make_convert_args(cfg: QemuConfig, source: str, target: str, *, compress: bool) -> list[str]:
    """``qemu-img convert [-c] [qemu_img_args.convert] -O FORMAT SRC DST``."""
    args = [QEMU_IMG, "convert"]
    if compress:
        args.append("-c")
    return [*args, *cfg.qemu_img_args.convert, "-O", cfg.format, source, target]


def make_default_args(cfg: QemuConfig, inputs: RunInputs) -> dict[str, list[str]]:
    """Packer's default switches (each a list of values; ``[]`` = bare switch)."""
    d: dict[str, list[str]] = {"-name": [cfg.vm_name]}
    d["-machine"] = [
        f"type={cfg.machine_type}" + ("" if inputs.accelerator == "none" else f",accel={inputs.accelerator}")
    ]
    if cfg.net_bridge:
        d["-netdev"] = [f"bridge,id=user.0,br={cfg.net_bridge}"]
    elif cfg.communicator != "none" and inputs.ssh_host_port:
        d["-netdev"] = [f"user,id=user.0,hostfwd=tcp:127.0.0.1:{inputs.ssh_host_port}-:{cfg.effective_ssh_port}"]
    else:
        d["-netdev"] = ["user,id=user.0"]
    if inputs.vnc_port:
        password = ",password=on" if cfg.vnc_use_password else ""
        d["-vnc"] = [f"{cfg.vnc_bind_address}:{inputs.vnc_port - 5900}{password}"]
    if inputs.qmp_socket:
        d["-qmp"] = [f"unix:{inputs.qmp_socket},server,nowait"]
    d["-m"] = [f"{cfg.memory}M"]
    if cfg.cpus > 1:
        d["-smp"] = [f"cpus={cfg.cpus},sockets={cfg.cpus}"]
    if inputs.floppy_path:
        d["-fda"] = [inputs.floppy_path]
    if cfg.firmware:
        d["-bios"] = [cfg.firmware]
    if cfg.headless:
        d["-display"] = ["none"]
    elif cfg.display and cfg.display != "none":
        d["-display"] = [cfg.display]
    elif not cfg.use_default_display:
        d["-display"] = ["gtk"]
    d["-boot"] = ["c" if cfg.disk_image else "once=d"]
    d["-device"], d["-drive"] = make_device_and_drive_args(cfg, inputs)
    return d


def make_device_and_drive_args(cfg: QemuConfig, inputs: RunInputs) -> tuple[list[str], list[str]]:
    """Disks, the net device and the CD-ROMs (Packer's ``getDeviceAndDriveArgs``)."""
    devices: list[str] = []
    drives: list[str] = []
    for i, path in enumerate(inputs.disk_paths):
        drive = (
            f"file={path},if={cfg.disk_interface},cache={cfg.disk_cache},discard={cfg.disk_discard},format={cfg.format}"
        )
        if cfg.disk_interface == "virtio-scsi":
            if i == 0:
                devices.append("virtio-scsi-pci,id=scsi0")
            devices.append(f"scsi-hd,bus=scsi0.0,drive=drive{i}")
            drive = (
                f"if=none,file={path},id=drive{i},cache={cfg.disk_cache},discard={cfg.disk_discard},format={cfg.format}"
            )
        if cfg.disk_detect_zeroes != "off":
            drive += f",detect-zeroes={cfg.disk_detect_zeroes}"
        drives.append(drive)
    devices.append(f"{cfg.net_device},netdev=user.0")
    cds = [p for p in ([inputs.iso_path] if not cfg.disk_image else []) + [inputs.cd_path] if p]
    for i, path in enumerate(cds):
        if not cfg.cdrom_interface:
            drives.append(f"file={path},index={i},media=cdrom")
        elif cfg.cdrom_interface == "virtio-scsi":
            drives.append(f"file={path},if=none,index={i},id=cdrom{i},media=cdrom")
            devices += ["virtio-scsi-device", f"scsi-cd,drive=cdrom{i}"]
        else:
            drives.append(f"file={path},if={cfg.cdrom_interface},index={i},id=cdrom{i},media=cdrom")
    return devices, drives


def apply_qemuargs(defaults: Mapping[str, list[str]], rendered: Sequence[Sequence[str]], net_device: str) -> list[str]:
    """Merge rendered ``qemuargs`` rows over the defaults and flatten to argv (without the binary)."""
    merged: dict[str, list[str]] = {}
    for row in rendered:
        if not row:
            continue
        key, value = row[0], "".join(row[1:])
        merged.setdefault(key, [])
        if value:
            merged[key].append(value)
    for key, values in defaults.items():
        merged.setdefault(key, list(values))
    if "-device" in merged and net_device not in "".join(merged["-device"]):
        merged["-device"].append(f"{net_device},netdev=user.0")
    argv: list[str] = []
    for key, values in merged.items():
        if values:
            for value in values:
                argv += [key, value]
        else:
            argv.append(key)
    return argv


class Driver:
    """Runs qemu-img and the VM process."""

    def __init__(self, qemu_binary: str = "qemu-system-x86_64") -> None:
        self.qemu_binary = qemu_binary
        self.vm: asyncio.subprocess.Process | None = None
        self._stderr: list[str] = []
        self._reader: asyncio.Future[None] | None = None

    async def qemu_img(self, argv: Sequence[str], what: str) -> str:
        return (await run(argv, what=what)).text

    async def image_format(self, path: str) -> str:
        """The format qemu-img detects for ``path`` (for a backing file's ``-F``)."""
        out = await self.qemu_img([QEMU_IMG, "info", "--output=json", path], "qemu-img info")
        return str(json.loads(out).get("format", "raw"))

    async def start_vm(self, argv: Sequence[str]) -> asyncio.subprocess.Process:
        self.vm = await start([self.qemu_binary, *argv], what="qemu")
        self._reader = asyncio.ensure_future(self._collect_stderr(self.vm))
        return self.vm

    async def _collect_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            logger.debug("qemu: %s", line)
            self._stderr = [*self._stderr[-40:], line]

    @property
    def stderr_tail(self) -> str:
        return "\n".join(self._stderr[-20:])

    async def wait_vm(self, timeout: float | None) -> bool:
        """Wait for the VM process to exit; False on timeout."""
        if self.vm is None:
            return True
        try:
            await asyncio.wait_for(self.vm.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop_vm(self) -> None:
        """Stop the VM process if it runs (SIGTERM, then SIGKILL) and reap it."""
        if self.vm is not None:
            await stop_process(self.vm, grace=3.0)

    def vm_failed(self, argv: Sequence[str]) -> ToolError:
        code = self.vm.returncode if self.vm is not None else None
        return ToolError([self.qemu_binary, *argv], code, self.stderr_tail, "qemu")


async def detect_accelerator(qemu_binary: str) -> str:
    """``kvm`` if a tiny VM actually runs under KVM (its BIOS gets to the boot attempt), else ``tcg``.

    ``/dev/kvm`` may open and still hang VMs, so the answer comes from a real boot, cached per
    host boot in ``~/.cache/imagesmith``.
    """
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    cache = _probe_cache_path(qemu_binary)
    with contextlib.suppress(OSError):
        cached = cache.read_text().strip()
        if cached in ("kvm", "tcg"):
            return cached
    result = "kvm" if await _kvm_boots(qemu_binary) else "tcg"
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(result)
    return result


def _probe_cache_path(qemu_binary: str) -> Path:
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot_id = "unknown"
    key = hashlib.sha1(f"{boot_id}:{qemu_binary}".encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "imagesmith" / f"kvm-probe-{key}"


async def _kvm_boots(qemu_binary: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="imagesmith-kvm-") as tmp:
        log = Path(tmp) / "debugcon"
        argv = [qemu_binary, "-machine", "pc,accel=kvm", "-m", "16", "-nodefaults", "-display", "none",
                "-no-reboot", "-debugcon", f"file:{log}", "-global", "isa-debugcon.iobase=0x402"]  # fmt: skip
        try:
            proc = await start(argv, what="kvm probe")
        except ToolError:
            return False
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + KVM_PROBE_TIMEOUT
            while loop.time() < deadline and proc.returncode is None:
                with contextlib.suppress(OSError):
                    if b"No bootable device" in log.read_bytes():
                        return True
                await asyncio.sleep(0.05)
            return False
        finally:
            await stop_process(proc, grace=1.0)

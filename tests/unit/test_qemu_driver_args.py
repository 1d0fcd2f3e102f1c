"""qemu builder: config rules and defaults, and command lines built as lists (no VM)."""

from __future__ import annotations

from typing import Any

import pytest

from imagesmith.builders.qemu.builder import make_steps
from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.driver import (
    RunInputs,
    apply_qemuargs,
    make_convert_args,
    make_create_args,
    make_default_args,
    make_resize_args,
)
from imagesmith.builders.qemu.steps.output_dir import PrepareOutputDir
from imagesmith.core.plugin import BuildContext, BuildInfo
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

BASE = {"iso_url": "http://x/a.iso", "iso_checksum": "none", "ssh_username": "u"}


def decode(**raw: Any) -> tuple[QemuConfig, list[str]]:
    problems: list[Problem] = []
    cfg = decode_config(QemuConfig, {**BASE, **raw}, render=None, path="builders[0]", problems=problems)
    return cfg, [p.message for p in problems]


def test_packer_defaults() -> None:
    cfg, problems = decode()
    assert problems == []
    r = cfg.resolved("qemu")
    assert (r.disk_size, r.format, r.memory, r.cpus, r.output_directory, r.vm_name) == (
        "40960M", "qcow2", 512, 1, "output-qemu", "packer-qemu")  # fmt: skip
    assert (r.net_device, r.disk_interface, r.disk_cache, r.disk_discard, r.machine_type) == (
        "virtio-net", "virtio", "writeback", "ignore", "pc")  # fmt: skip
    assert (float(r.boot_wait), float(r.shutdown_timeout), r.http_port_min, r.host_port_max) == (10, 300, 8000, 4444)
    assert decode(disk_size="2048")[0].resolved("b").disk_size == "2048M"
    raw = decode(format="raw", disk_compression=True)[0].resolved("b")
    assert raw.skip_compaction and not raw.disk_compression


def test_prepare_errors_all_at_once() -> None:
    _, problems = decode(disk_size="10X", format="vmdk", accelerator="foo", disk_interface="sata",
                         use_backing_file=True, skip_resize_disk=True, vnc_port_min=6000, vnc_port_max=5900,
                         boot_command=["<wait-1s>"])  # fmt: skip
    assert problems == [
        "Invalid disk size.",
        "invalid format, only 'qcow2' or 'raw' are allowed",
        "use_backing_file can only be enabled for QCOW2 images and when disk_image is true",
        "skip_resize_disk can only be used when disk_image is true",
        "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are allowed",
        "unrecognized disk interface type",
        "vnc_port_min must be less than vnc_port_max",
        "boot_command[0]: column 1: Expecting a positive wait value. Got -1s",
    ]
    _, problems = decode(iso_url="", iso_checksum="", ssh_username="")
    assert problems[0].startswith("An ssh_username must be specified")
    assert problems[1:] == ["One of iso_url or iso_urls must be specified"]  # Packer: no checksum check then
    assert decode(iso_checksum="")[1] == ["A checksum must be specified"]


def test_qemu_img_command_lines() -> None:
    cfg = decode(disk_size="10G", qemu_img_args={"create": ["-o", "cluster_size=2M"], "convert": ["-m", "4"]})[0]
    cfg = cfg.resolved("b")
    assert make_create_args(cfg, "o/d", "10G") == ["qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=2M",
                                                   "o/d", "10G"]  # fmt: skip
    assert make_create_args(cfg, "o/d", "10G", backing="base.img", backing_format="raw")[6:] == [
        "-b", "base.img", "-F", "raw", "o/d", "10G"]  # fmt: skip
    assert make_resize_args(cfg, "o/d") == ["qemu-img", "resize", "-f", "qcow2", "o/d", "10G"]
    assert make_convert_args(cfg, "a", "b", compress=True) == ["qemu-img", "convert", "-c", "-m", "4", "-O", "qcow2",
                                                               "a", "b"]  # fmt: skip


def _argv(cfg: QemuConfig, qemuargs: list[list[str]] | None = None, **inputs: Any) -> list[str]:
    base = dict(iso_path="/i.iso", disk_paths=["out/vm"], ssh_host_port=2345, vnc_port=5901, qmp_socket="/t/q.sock")
    run = RunInputs(**{**base, **inputs})
    return apply_qemuargs(make_default_args(cfg, run), qemuargs or [], cfg.net_device)


def test_default_qemu_command_line() -> None:
    cfg = decode(headless=True, cpus=2, memory=1024, vm_name="vm")[0].resolved("b")
    assert _argv(cfg) == [
        "-name", "vm", "-machine", "type=pc,accel=tcg",
        "-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:2345-:22",  # loopback only, unlike Packer
        "-vnc", "127.0.0.1:1", "-qmp", "unix:/t/q.sock,server,nowait", "-m", "1024M", "-smp", "cpus=2,sockets=2",
        "-display", "none", "-boot", "once=d", "-device", "virtio-net,netdev=user.0",
        "-drive", "file=out/vm,if=virtio,cache=writeback,discard=ignore,format=qcow2",
        "-drive", "file=/i.iso,index=0,media=cdrom",
    ]  # fmt: skip


def test_vnc_password_and_no_vnc() -> None:
    cfg = decode(vnc_use_password=True)[0].resolved("b")
    argv = _argv(cfg)
    assert argv[argv.index("-vnc") + 1] == "127.0.0.1:1,password=on"
    assert "-vnc" not in _argv(cfg, vnc_port=0)


def test_qemuargs_override_switch_by_switch() -> None:
    cfg = decode(headless=True, firmware="/usr/share/OVMF/OVMF_CODE.fd")[0].resolved("b")
    argv = _argv(cfg, [["-netdev", "user,id=user.0,", "hostfwd=tcp::2222-:22"], ["-m", "2G"], ["--no-acpi", ""],
                       ["-device", "e1000,netdev=n0"]], cd_path="/cd.iso")  # fmt: skip
    assert argv[:7] == ["-netdev", "user,id=user.0,hostfwd=tcp::2222-:22", "-m", "2G", "--no-acpi", "-device",
                        "e1000,netdev=n0"]  # fmt: skip
    assert argv[7:9] == ["-device", "virtio-net,netdev=user.0"]  # Packer #6804: net device re-added
    assert "-bios" in argv and "/usr/share/OVMF/OVMF_CODE.fd" in argv
    assert argv[-2:] == ["-drive", "file=/cd.iso,index=1,media=cdrom"]


def test_disk_image_virtio_scsi_and_extra_disks() -> None:
    cfg = decode(disk_image=True, disk_interface="virtio-scsi", disk_detect_zeroes="unmap")[0].resolved("b")
    argv = _argv(cfg, disk_paths=["out/vm", "out/vm-1"])
    assert argv[argv.index("-boot") + 1] == "c"
    devices = [argv[i + 1] for i, a in enumerate(argv) if a == "-device"]
    assert devices == ["virtio-scsi-pci,id=scsi0", "scsi-hd,bus=scsi0.0,drive=drive0",
                       "scsi-hd,bus=scsi0.0,drive=drive1", "virtio-net,netdev=user.0"]  # fmt: skip
    drives = [argv[i + 1] for i, a in enumerate(argv) if a == "-drive"]
    assert drives[0] == "if=none,file=out/vm,id=drive0,cache=writeback,discard=ignore,format=qcow2,detect-zeroes=unmap"
    assert not any("cdrom" in d for d in drives)


class _Ui(Ui):
    def _write(self, kind: str, message: str) -> None:
        pass


async def _noop(*_: Any) -> None:
    pass


@pytest.mark.parametrize(
    ("raw", "present", "absent"),
    [
        ({}, ["StepDownload", "stepCreateDisk", "stepRun", "StepConnect", "stepConvertDisk"],
         ["StepHTTPServer", "stepCopyDisk", "stepResizeDisk", "StepCreateFloppy"]),
        ({"http_directory": "h", "floppy_files": ["f"], "cd_files": ["c"]}, ["StepHTTPServer", "StepCreateFloppy",
                                                                             "StepCreateCD"], []),
        ({"disk_image": True}, ["stepCopyDisk", "stepResizeDisk"], []),
        ({"communicator": "none", "skip_compaction": True}, [], ["StepConnect", "stepPortForward", "stepConvertDisk"]),
        ({"iso_skip_cache": True}, ["SetIso"], ["StepDownload"]),
    ],
)  # fmt: skip
def test_step_list_follows_config(raw: dict[str, Any], present: list[str], absent: list[str]) -> None:
    cfg = decode(**raw)[0].resolved("b")
    info = BuildInfo(build_name="b", builder_type="qemu")
    steps = make_steps(cfg, BuildContext(_Ui(), info, _noop, _noop), PrepareOutputDir())
    names = [s.name for s in steps if s is not None]
    for name in present:
        assert name in names
    for name in absent:
        assert name not in names
    order = ["StepDownload", "stepPrepareOutputDir", "stepCreateDisk", "stepHTTPIPDiscover", "stepRun",
             "stepTypeBootCommand", "StepProvision", "stepShutdown"]  # fmt: skip
    present_order = [n for n in names if n in order]
    assert present_order == [n for n in order if n in present_order]


def test_legacy_keys() -> None:
    _, problems = decode(iso_checksum_type="md5")
    assert problems == [
        "Deprecated configuration key: 'iso_checksum_type'. Please call `packer fix`\nagainst your template to "
        "update your template to be compatible with the current\nversion of Packer. Visit "
        "https://www.packer.io/docs/commands/fix/ for more\ndetail."
    ]
    cfg, problems = decode(ssh_host_port_min=3000, ssh_host_port_max=3001, ssh_wait_timeout="7m")
    assert problems == []
    r = cfg.resolved("b")
    assert (r.host_port_min, r.host_port_max, r.effective_ssh_timeout) == (3000, 3001, 420.0)
    r = decode()[0].resolved("b")
    assert (r.host_port_min, r.host_port_max) == (2222, 4444)


def test_temporary_key_pair_made_in_background() -> None:
    import asyncio

    from imagesmith.builders.qemu.driver import Driver
    from imagesmith.builders.qemu.state import QemuState
    from imagesmith.builders.qemu.steps.keys import MakeKeyPair, temporary_keys, wants_temporary_key

    assert wants_temporary_key(decode()[0])  # no password, key file or agent
    assert not wants_temporary_key(decode(ssh_password="p")[0])
    assert wants_temporary_key(decode(ssh_password="p", temporary_key_pair_type="ed25519")[0])
    assert not wants_temporary_key(decode(communicator="none")[0])
    cfg = decode(temporary_key_pair_type="ed25519")[0].resolved("b")
    state = QemuState(cfg, Driver(), BuildContext(_Ui(), BuildInfo(build_name="b", builder_type="qemu"), _noop, _noop))

    async def main() -> tuple[str, str]:
        await MakeKeyPair().run(state)
        return await temporary_keys(state)

    private, public = asyncio.run(main())
    assert private.startswith("-----BEGIN OPENSSH PRIVATE KEY-----") and public.startswith("ssh-ed25519 ")
    assert (state.ssh_private_key, state.ssh_public_key) == (private, public)

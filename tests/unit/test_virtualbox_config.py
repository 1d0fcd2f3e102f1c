"""virtualbox-iso's configuration: Packer 1.6.6's keys, defaults and prepare-time messages
(the messages as ``packer validate`` printed them for the same blocks)."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.virtualbox.builder import make_steps
from imagesmith.builders.virtualbox.config import VirtualBoxIsoConfig
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config

BASE: dict[str, Any] = {"iso_url": "x.iso", "iso_checksum": "none", "ssh_username": "root"}


def decode(**overrides: Any) -> tuple[VirtualBoxIsoConfig, list[str]]:
    problems: list[Problem] = []
    raw = {**BASE, **overrides}
    cfg = decode_config(VirtualBoxIsoConfig, raw, render=None, path="builders[0]", problems=problems)
    return cfg, [p.message for p in problems]


def test_defaults_as_packer() -> None:
    cfg, problems = decode()
    assert problems == []
    r = cfg.resolved("virtualbox-iso", 1796317726)
    assert r.vm_name == "packer-virtualbox-iso-1796317726"
    assert (r.output_directory, r.output_filename, r.format) == ("output-virtualbox-iso", r.vm_name, "ovf")
    assert (r.cpus, r.memory, r.sound, r.usb, r.disk_size) == (1, 512, "none", False, 40000)
    assert (r.hard_drive_interface, r.iso_interface, r.sata_port_count, r.nvme_port_count) == ("ide", "ide", 1, 1)
    assert (r.guest_additions_mode, r.guest_additions_path) == ("upload", "VBoxGuestAdditions.iso")
    assert (r.virtualbox_version_file, r.guest_os_type) == (".vbox_version", "Other")
    assert (r.vrdp_bind_address, r.vrdp_port_min, r.vrdp_port_max) == ("127.0.0.1", 5900, 6000)
    assert (r.host_port_min, r.host_port_max, float(r.shutdown_timeout)) == (2222, 4444, 300.0)


def test_empty_version_file_is_kept_and_old_port_keys_still_work() -> None:
    cfg, problems = decode(virtualbox_version_file="", ssh_host_port_min=3000, ssh_host_port_max=3001)
    assert problems == []
    r = cfg.resolved("b", 0)
    assert r.virtualbox_version_file == ""
    assert (r.host_port_min, r.host_port_max) == (3000, 3001)


def test_every_error_at_once_as_packer_validate() -> None:
    _, problems = decode(
        communicator="none", virtualbox_version_file="x", format="vmx", hard_drive_interface="nvme",
        sata_port_count=31, nvme_port_count=256, iso_interface="scsi", guest_additions_mode="foo",
        vrdp_port_min=7000, vrdp_port_max=6000, host_port_min=5000, host_port_max=4000,
    )  # fmt: skip
    assert sorted(problems) == sorted([
        "invalid format, only 'ovf' or 'ova' are allowed",
        "invalid format, only 'ovf' or 'ova' are allowed",
        "vrdp_port_min must be less than vrdp_port_max",
        "host_port_min must be less than host_port_max",
        "virtualbox_version_file has to be an empty string when communicator = 'none'.",
        "guest_additions_mode is invalid. Must be one of: [disable attach upload]",
        "hard_drive_interface can only be ide, sata, pcie or scsi",
        "sata_port_count cannot be greater than 30",
        "nvme_port_count cannot be greater than 255",
        "iso_interface can only be ide or sata",
    ])  # fmt: skip


def test_communicator_none_needs_attach_or_disable() -> None:
    _, problems = decode(communicator="none", virtualbox_version_file="", guest_additions_mode="upload")
    assert problems == ["communicator must not be 'none' when guest_additions_mode = 'upload'."]
    _, problems = decode(communicator="none", virtualbox_version_file="", guest_additions_mode="attach")
    assert problems == []


def test_keys_packer_1_6_6_lacks_are_unknown() -> None:
    for key in ("nic_type", "chipset", "firmware", "disk_additional_size", "gfx_controller"):
        _, problems = decode(**{key: "x"})
        assert any(key in p for p in problems), (key, problems)


def test_step_list_follows_the_options() -> None:
    class Ctx:
        ui = None

    def names(**overrides: Any) -> list[str]:
        cfg, problems = decode(**overrides)
        assert problems == []
        steps = make_steps(cfg.resolved("b", 0), Ctx(), object())  # type: ignore[arg-type]
        return [type(s).__name__ for s in steps if s is not None]

    plain = names()
    assert plain[:3] == ["FindGuestAdditions", "DownloadIso", "object"]
    assert "ForwardPort" in plain and "UploadGuestAdditions" in plain and "AttachFloppy" not in plain
    silent = names(communicator="none", guest_additions_mode="disable", virtualbox_version_file="")
    assert not {"FindGuestAdditions", "ForwardPort", "ConnectSsh", "UploadVersion"} & set(silent)
    assert "AttachFloppy" in names(floppy_files=["a"]) and "ForwardPort" not in names(skip_nat_mapping=True)

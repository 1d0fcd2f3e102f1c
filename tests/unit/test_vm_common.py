"""The shared VM config mixins (imagesmith.builders.vm_common) as the vmware builders use them."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.vm_common import HttpConfig, MediaConfig, ShutdownConfig, VmOutputConfig, VncBootConfig
from imagesmith.builders.vmware.config import VmwareIsoConfig, VmwareVmxConfig
from imagesmith.errors import Problem
from imagesmith.template.decode import config_keys, decode_config
from imagesmith.template.values import Duration

SHARED = (HttpConfig, MediaConfig, VncBootConfig, ShutdownConfig, VmOutputConfig)


def test_vmware_configs_accept_every_shared_key() -> None:
    shared = {key for cls in SHARED for key in config_keys(cls)}
    assert {"http_port_min", "floppy_dirs", "cd_label", "boot_key_interval", "shutdown_timeout", "vm_name"} <= shared
    for cls in (VmwareIsoConfig, VmwareVmxConfig):
        assert shared <= set(config_keys(cls))


def decode(**raw: Any) -> tuple[VmwareIsoConfig, list[str]]:
    problems: list[Problem] = []
    base = {"iso_url": "a.iso", "iso_checksum": "none", "communicator": "none"}
    cfg = decode_config(VmwareIsoConfig, {**base, **raw}, render=None, path="builders[0]", problems=problems)
    return cfg, [p.message for p in problems]


def test_shared_defaults_and_checks_are_packers() -> None:
    cfg, problems = decode()
    assert problems == []
    assert (cfg.http_port_min, cfg.http_port_max, cfg.boot_wait, cfg.shutdown_timeout) == (
        8000, 9000, Duration(10), Duration(300),
    )  # fmt: skip
    assert (cfg.floppy_files, cfg.headless, cfg.disable_vnc) == ([], False, False)
    _, problems = decode(http_port_min=9001, shutdown_timeout="1m", boot_wait="2s", floppy_label="X")
    assert problems == ["http_port_min must be less than http_port_max"]

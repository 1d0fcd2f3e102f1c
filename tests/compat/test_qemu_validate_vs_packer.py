"""``imagesmith validate`` against ``packer validate`` (1.6.6) on qemu builder blocks: both accept the
same valid blocks and report the same prepare-time errors (compared as message sets, without
imagesmith's locations; Packer stops at decoding errors, so cases have errors of one stage)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli, run_packer

pytestmark = [pytest.mark.compat, pytest.mark.integration]

BASE = {"type": "qemu", "iso_url": "http://127.0.0.1:1/a.iso", "iso_checksum": "none", "ssh_username": "u"}
CASES: list[tuple[str, dict[str, Any]]] = [
    ("valid-defaults", {}),
    ("valid-everything", {
        "iso_urls": ["http://127.0.0.1:1/a.iso", "file:///nonexistent/a.iso"], "iso_url": None,
        "iso_checksum": "sha256:" + "a" * 64, "disk_size": "10G", "format": "raw", "disk_interface": "virtio-scsi",
        "net_device": "e1000", "accelerator": "tcg", "cpus": 2, "memory": 1024, "headless": True,
        "qemuargs": [["-m", "2G"], ["--no-acpi", ""]], "vm_name": "vm.img", "boot_wait": "1s",
        "boot_command": ["<esc><wait5><leftCtrlOn>c<leftCtrlOff> {{ .HTTPIP }}:{{ .HTTPPort }}<enter><f12>"],
        "http_port_min": 9000, "http_port_max": 9100, "http_bind_address": "127.0.0.1", "host_port_min": 3000,
        "host_port_max": 3100, "vnc_bind_address": "127.0.0.1", "vnc_port_min": 5990, "vnc_port_max": 5999,
        "shutdown_command": "poweroff", "shutdown_timeout": "2m", "skip_compaction": True,
        "disk_compression": False, "disk_additional_size": ["1G"], "ssh_timeout": "20m",
        "ssh_handshake_attempts": 5, "ssh_pty": True, "ssh_file_transfer_method": "sftp",
    }),
    ("invalid-values", {"disk_size": "10X", "format": "vmdk", "accelerator": "foo"}),
    ("invalid-combinations", {"disk_interface": "sata", "disk_cache": "bogus", "use_backing_file": True,
                              "skip_resize_disk": True, "vnc_port_min": 6000, "vnc_port_max": 5900}),
    ("missing", {"iso_url": None, "ssh_username": None, "iso_checksum": None}),
    ("bad-checksum-type", {"iso_checksum": "crc32:abcd"}),
    ("legacy-checksum-type", {"iso_checksum": "d41d8cd98f00b204e9800998ecf8427e", "iso_checksum_type": "md5"}),
    ("ssh-rules", {"ssh_bastion_host": "b", "ssh_proxy_host": "p", "ssh_bastion_password": "x"}),
]  # fmt: skip


def _messages(text: str) -> set[str]:
    """The error bullet messages, normalised (locations and line wrapping removed)."""
    text = text.replace("\t", "")
    items = re.split(r"\n\s*\* ", "\n" + text)[1:]
    if not items:  # imagesmith's single error: "Error: <location>: <message>"
        items = re.findall(r"^Error: (.*)", text, re.MULTILINE | re.DOTALL)
    out = set()
    for item in items:
        item = re.sub(r"^\S+\.json:\d+:\d+: (builders\[\d+\]: )?", "", item.strip())
        out.add(" ".join(item.split()))
    return out


@pytest.mark.parametrize(("name", "raw"), CASES, ids=[c[0] for c in CASES])
def test_validate_matches_packer(need_packer: None, tmp_path: Path, name: str, raw: dict[str, Any]) -> None:
    builder = {k: v for k, v in {**BASE, **raw}.items() if v is not None}
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"builders": [builder]}))
    ours = run_cli("validate", str(template), cwd=tmp_path)
    theirs = run_packer("validate", str(template), cwd=tmp_path)
    assert (ours.returncode == 0) == (theirs.returncode == 0), (ours.stdout + ours.stderr, theirs.stdout)
    if theirs.returncode != 0:
        assert _messages(ours.stdout + ours.stderr) == _messages(theirs.stdout + theirs.stderr)

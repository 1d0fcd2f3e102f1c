"""The qemu layer support's pure parts: which builds can save layers, what layer 0's key covers,
and that a layer reference from a damaged entry can never name a path outside the cache."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.qemu import layers
from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.state import QemuState
from imagesmith.errors import ImagesmithError, Problem
from imagesmith.layers.keys import base_key
from imagesmith.template.decode import decode_config


def config(**overrides: Any) -> QemuConfig:
    raw: dict[str, Any] = {
        "iso_url": "guest.iso", "iso_checksum": "none", "ssh_username": "root", "ssh_password": "packer",
        "output_directory": "out", "boot_command": ["<enter>"],
        "qemuargs": [["-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"]],
    }  # fmt: skip
    raw.update(overrides)
    problems: list[Problem] = []
    cfg = decode_config(QemuConfig, raw, render=None, path="builders[0]", problems=problems)
    assert problems == []
    return cfg.resolved("qemu")


def inputs(cfg: QemuConfig, iso: Path) -> dict[str, Any]:
    state = QemuState(config=cfg, driver=None, ctx=None, iso_path=str(iso))  # type: ignore[arg-type]
    return dict(asyncio.run(layers.QemuLayers(state).base_inputs()))


def test_only_single_qcow2_disks_with_a_known_login_save_layers() -> None:
    assert layers.unsupported_reason(config()) == ""
    assert "qcow2" in layers.unsupported_reason(config(format="raw"))
    assert "single disk" in layers.unsupported_reason(config(disk_additional_size=["1G"]))
    assert "temporary SSH key" in layers.unsupported_reason(config(ssh_password=""))


def test_layer_0_covers_the_iso_contents_and_the_guest_shape_not_where_the_output_goes(tmp_path: Path) -> None:
    iso = tmp_path / "guest.iso"
    iso.write_bytes(b"first")
    cfg = config()
    key = base_key("qemu", inputs(cfg, iso))
    same = dataclasses.replace(cfg, output_directory="elsewhere", shutdown_command="poweroff", headless=True)
    assert base_key("qemu", inputs(same, iso)) == key
    assert base_key("qemu", inputs(dataclasses.replace(cfg, memory=1024), iso)) != key
    assert base_key("qemu", inputs(dataclasses.replace(cfg, boot_command=["<esc>"]), iso)) != key
    iso.write_bytes(b"second")
    assert base_key("qemu", inputs(cfg, iso)) != key


@pytest.mark.parametrize("ref", ["../../etc", "/tmp/x", "abc", "0123456789abcdef-0123456/..", ""])
def test_a_reference_that_imagesmith_did_not_make_is_refused(ref: str) -> None:
    with pytest.raises(ImagesmithError):
        layers.layer_dir(ref)


def test_memory_is_written_and_read_through_the_same_codec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert layers.save_command(tmp_path / "r am") == f"cat > '{tmp_path}/r am'"
    assert layers.load_command(tmp_path / "ram", "raw") == f"cat {tmp_path}/ram"
    assert layers.load_command(tmp_path / "ram", "zstd").startswith("zstd -d -q -c ")


def test_a_layer_saved_first_by_another_build_becomes_the_next_layers_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagesmith.layers.store import Entry, LayerStore

    monkeypatch.setenv("IMAGESMITH_CACHE_DIR", str(tmp_path))
    key = "ab" * 32
    theirs, ours = f"{key[:40]}-00000001", f"{key[:40]}-00000002"
    assert layers.published_ref(ours) == ""
    entry = Entry(key=key, kind=layers.KIND, ref=theirs, builder="qemu", position=1, provisioner="shell", created=1.0)
    assert LayerStore().write(entry)
    assert layers.published_ref(ours) == theirs
    assert layers.published_ref(theirs) == ""  # its own entry is not "another build's"

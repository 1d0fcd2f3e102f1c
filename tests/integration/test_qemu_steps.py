"""qemu builder steps that run real tools without a VM: floppy and CD media, disks, output directory,
the KVM probe."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.driver import Driver, _kvm_boots, detect_accelerator
from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.disks import ConvertDisk, CreateDisk
from imagesmith.builders.qemu.steps.media import CreateCd, CreateFloppy
from imagesmith.builders.qemu.steps.output_dir import PrepareOutputDir
from imagesmith.core.plugin import BuildContext, BuildInfo
from imagesmith.errors import BuildError, Problem
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

pytestmark = pytest.mark.integration


class _Ui(Ui):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append(message)


async def _noop(*_: Any) -> None:
    pass


def make_state(tmp: Path, force: bool = False, **raw: Any) -> QemuState:
    problems: list[Problem] = []
    base = {"iso_url": "x.iso", "iso_checksum": "none", "ssh_username": "u", "output_directory": str(tmp / "out")}
    cfg = decode_config(QemuConfig, {**base, **raw}, render=None, path="b", problems=problems)
    assert problems == []
    info = BuildInfo(build_name="b", builder_type="qemu", force=force)
    return QemuState(cfg.resolved("b"), Driver(), BuildContext(_Ui(), info, _noop, _noop))


def test_floppy_and_cd_hold_the_files(tmp_path: Path) -> None:
    for tool in ("mkfs.fat", "mcopy", "xorriso"):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool}")
    (tmp_path / "a.cfg").write_text("A")
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "sub" / "b.txt").write_text("B")
    state = make_state(tmp_path, floppy_files=[str(tmp_path / "*.cfg")], floppy_dirs=[str(tmp_path / "dir")],
                       floppy_label="CIDATA", cd_files=[str(tmp_path / "a.cfg"), str(tmp_path / "dir")],
                       cd_label="cidata")  # fmt: skip
    floppy, cd = CreateFloppy(), CreateCd()

    async def main() -> tuple[str, str]:
        await floppy.run(state)
        await cd.run(state)
        listing = subprocess.run(["mdir", "-/", "-b", "-i", state.floppy_path, "::/"], capture_output=True,
                                 text=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})  # fmt: skip
        iso = subprocess.run(["xorriso", "-indev", state.cd_path, "-find", "/", "--"], capture_output=True, text=True)
        label = subprocess.run(["xorriso", "-indev", state.cd_path, "-pvd_info"], capture_output=True, text=True)
        await floppy.cleanup(state)
        await cd.cleanup(state)
        return listing.stdout + iso.stdout, label.stdout + label.stderr

    files, label = asyncio.run(main())
    assert "a.cfg" in files.lower() and "b.txt" in files.lower()
    assert "cidata" in label
    assert not Path(state.floppy_path).exists() and not Path(state.cd_path).exists()


def test_missing_media_file_is_an_error(tmp_path: Path) -> None:
    state = make_state(tmp_path, cd_files=[str(tmp_path / "nope")])
    step = CreateCd()
    with pytest.raises(BuildError, match="no such file"):
        asyncio.run(step.run(state))
    asyncio.run(step.cleanup(state))  # as the step runner does after a failed run: nothing is left
    assert step.tmp and not Path(step.tmp).exists()


def test_output_dir_force_and_removal_on_failure(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("x")
    state = make_state(tmp_path)
    with pytest.raises(BuildError, match=r"already exists\. It must not exist\."):
        asyncio.run(PrepareOutputDir().run(state))
    forced = make_state(tmp_path, force=True)
    step = PrepareOutputDir()
    asyncio.run(step.run(forced))
    assert list((tmp_path / "out").iterdir()) == []
    asyncio.run(step.cleanup(forced))  # the build did not finish: the directory goes
    assert not (tmp_path / "out").exists()
    kept = PrepareOutputDir()
    asyncio.run(kept.run(forced))
    kept.mark_succeeded()
    asyncio.run(kept.cleanup(forced))
    assert (tmp_path / "out").is_dir()


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_disks_created_and_compacted(tmp_path: Path, fmt: str, need_qemu: None) -> None:
    state = make_state(tmp_path, format=fmt, disk_size="64", disk_additional_size=["16M"], vm_name="vm",
                       disk_compression=True)  # fmt: skip
    (tmp_path / "out").mkdir()
    asyncio.run(CreateDisk().run(state))
    assert state.disk_paths == [f"{tmp_path}/out/vm", f"{tmp_path}/out/vm-1"]
    info = subprocess.run(["qemu-img", "info", state.disk_paths[0]], capture_output=True, text=True).stdout
    assert f"file format: {fmt}" in info and "virtual size: 64 MiB" in info
    if fmt == "qcow2":
        asyncio.run(ConvertDisk().run(state))
        assert not Path(state.disk_path + ".convert").exists()
        assert "file format: qcow2" in subprocess.run(["qemu-img", "info", state.disk_path], capture_output=True,
                                                      text=True).stdout  # fmt: skip


def test_kvm_probe_answer_is_true(need_qemu: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    accel = asyncio.run(detect_accelerator("qemu-system-x86_64"))
    assert accel in ("kvm", "tcg")
    if accel == "kvm":  # then a tiny VM really runs under KVM
        assert asyncio.run(_kvm_boots("qemu-system-x86_64"))
    cached = list((tmp_path / "imagesmith").glob("kvm-probe-*")) if (tmp_path / "imagesmith").exists() else []
    assert all(p.read_text() == accel for p in cached)

"""The shared floppy and CD steps (imagesmith.steps.media): Packer 1.6.6's layout rules, the
command lines, and real images made with mkfs.fat/mcopy and xorriso, read back with mtools and
xorriso. The byte-level comparison with Packer's own images is in
tests/integration/test_vmware_vs_packer.py."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagesmith.errors import BuildError
from imagesmith.steps.media import (
    CreateCd,
    CreateFloppy,
    cd_args,
    check_media,
    expand_globs,
    floppy_format_args,
    stage_cd_path,
    walk_files,
)
from imagesmith.ui import Ui
from tests.conftest import require_tool


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append(message)


@dataclass
class MediaState:
    floppy_path: str = ""
    cd_path: str = ""


def tree(root: Path) -> None:
    for name, text in {"a.txt": "a", "d/b.txt": "b", "d/e/c.txt": "c", "g1.cfg": "1", "g2.cfg": "2"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_globs_expand_sorted_and_plain_paths_stay(tmp_path: Path) -> None:
    tree(tmp_path)
    assert expand_globs([str(tmp_path / "g*.cfg"), "plain", str(tmp_path / "none*")]) == [
        str(tmp_path / "g1.cfg"), str(tmp_path / "g2.cfg"), "plain",
    ]  # fmt: skip
    assert walk_files(str(tmp_path / "d")) == [str(tmp_path / "d/b.txt"), str(tmp_path / "d/e/c.txt")]


def test_command_lines_are_packers() -> None:
    assert cd_args("cidata", "/r", "/o.iso") == [
        "xorriso", "-as", "genisoimage", "-rock", "-joliet", "-volid", "cidata", "-output", "/o.iso", "/r",
    ]  # fmt: skip
    label = floppy_format_args("/f.vfd", "a-very-long-label")
    assert label[:6] == ["mkfs.fat", "-C", "-F", "12", "-n", "a-very-long"]


def test_check_media_reports_missing_paths_only(tmp_path: Path) -> None:
    tree(tmp_path)
    assert list(check_media([str(tmp_path / "a.txt"), "x*"], [str(tmp_path / "d")], [])) == []
    assert list(check_media([], [], ["gone"])) == ["Bad CD disk file 'gone': stat gone: no such file or directory"]


def test_cd_staging_puts_files_at_the_root_and_keeps_directory_trees(tmp_path: Path) -> None:
    tree(tmp_path / "src")
    root = tmp_path / "root"
    root.mkdir()
    stage_cd_path(str(tmp_path / "src" / "a.txt"), str(root))
    stage_cd_path(str(tmp_path / "src" / "d") + "/", str(root))
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == ["a.txt", "d", "d/b.txt", "d/e", "d/e/c.txt"]
    with pytest.raises(BuildError, match="stat nope: no such file"):
        stage_cd_path("nope", str(root))


def mtools(*argv: str) -> str:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout


def test_floppy_is_a_fat12_image_laid_out_as_packer_lays_it_out(tmp_path: Path) -> None:
    require_tool(shutil.which("mkfs.fat") is not None and shutil.which("mcopy") is not None, "needs dosfstools+mtools")
    tree(tmp_path)
    ui, state = RecordingUi(), MediaState()
    step = CreateFloppy[MediaState](ui, [str(tmp_path / "a.txt"), str(tmp_path / "d")], [str(tmp_path / "d")], "")
    asyncio.run(step.run(state))
    image = state.floppy_path
    assert os.path.getsize(image) == 1440 * 1024
    names = mtools("mdir", "-i", image, "-/", "-b", "::/").split()
    # floppy_files flattened (d's files at the root), floppy_dirs kept as a tree
    assert sorted(n.lower() for n in names if not n.endswith("/")) == [
        "::/a.txt", "::/b.txt", "::/c.txt", "::/d/b.txt", "::/d/e/c.txt",
    ]  # fmt: skip
    assert "packer" in mtools("mlabel", "-i", image, "-s", "::").lower()
    assert "Copying file: " + str(tmp_path / "a.txt") in ui.lines
    asyncio.run(step.cleanup(state))
    assert not os.path.exists(image)


def test_floppy_with_a_vanished_file_fails_clearly_and_cleans_up(tmp_path: Path) -> None:
    require_tool(shutil.which("mkfs.fat") is not None, "needs dosfstools")
    step = CreateFloppy[MediaState](RecordingUi(), [str(tmp_path / "gone")], [], "x")
    with pytest.raises(BuildError, match="Error trying to stat"):
        asyncio.run(step.run(MediaState()))
    asyncio.run(step.cleanup(MediaState()))
    assert not os.path.exists(step.tmp)


def test_cd_is_an_iso_with_the_label_and_files(tmp_path: Path) -> None:
    require_tool(shutil.which("xorriso") is not None, "needs xorriso")
    tree(tmp_path)
    state = MediaState()
    step = CreateCd[MediaState](RecordingUi(), [str(tmp_path / "g*.cfg"), str(tmp_path / "d")], "cidata")
    asyncio.run(step.run(state))
    listing = subprocess.run(["xorriso", "-indev", state.cd_path, "-pvd_info", "-find", "/"],
                             capture_output=True, text=True, check=True)  # fmt: skip
    out = listing.stdout + listing.stderr
    assert "Volume Id    : cidata" in out
    for path in ("'/g1.cfg'", "'/g2.cfg'", "'/d/e/c.txt'"):
        assert path in out
    asyncio.run(step.cleanup(state))
    assert not os.path.exists(state.cd_path)

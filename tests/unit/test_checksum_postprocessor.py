"""The checksum post-processor: every type, Packer's file format, appending, the artifact."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import BuildInfo
from imagesmith.errors import BuildError, Problem
from imagesmith.post_processors.checksum import TYPES, Checksum, ChecksumConfig
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

INFO = BuildInfo(build_name="web", builder_type="qemu")


def run_pp(config: ChecksumConfig, files: list[str]):  # type: ignore[no-untyped-def]
    return asyncio.run(Checksum(config, INFO).post_process(Ui(), FileArtifact("packer.qemu", files)))


@pytest.fixture
def images(tmp_path: Path) -> list[str]:
    paths = []
    for name, size in (("disk.qcow2", 9 << 20), ("empty.img", 0), ("small.txt", 10)):
        path = tmp_path / "out" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(os.urandom(size))
        paths.append(str(path))
    return paths


def test_every_type_in_packers_format(tmp_path: Path, images: list[str]) -> None:
    output = str(tmp_path / "sums" / "{{.BuildName}}_{{.BuilderType}}.{{.ChecksumType}}")
    result = run_pp(ChecksumConfig(checksum_types=list(TYPES), output=output), images)
    for name in TYPES:
        text = (tmp_path / "sums" / f"web_qemu.{name}").read_text()
        expected = "".join(
            f"{hashlib.new(name, Path(p).read_bytes()).hexdigest()}\t{os.path.basename(p)}\n" for p in images
        )
        assert text == expected
    created = [str(tmp_path / "sums" / f"web_qemu.{name}") for name in TYPES]
    assert result.artifact.files == images + created
    assert result.keep is True and result.force_override is True
    assert result.artifact.builder_id == "packer.post-processor.checksum" and result.artifact.id == ""
    assert str(result.artifact) == "Created artifact from files: " + ", ".join(images + created)


def test_defaults_md5_and_packers_name(tmp_path: Path, images: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_pp(ChecksumConfig(), images[:1])
    name = "packer_web_qemu_md5.checksum"
    assert result.artifact.files == [images[0], name]
    assert Path(name).read_text() == f"{hashlib.md5(Path(images[0]).read_bytes()).hexdigest()}\tdisk.qcow2\n"


def test_existing_file_is_appended_and_not_listed(tmp_path: Path, images: list[str]) -> None:
    target = tmp_path / "SHA256SUMS"
    target.write_text("old line\n")
    result = run_pp(ChecksumConfig(checksum_types=["sha256"], output=str(target)), images[2:])
    assert result.artifact.files == images[2:]
    lines = target.read_text().splitlines()
    assert lines[0] == "old line" and lines[1].endswith("\tsmall.txt") and len(lines) == 2


def test_one_output_for_two_types_is_listed_once(tmp_path: Path, images: list[str]) -> None:
    target = tmp_path / "all.sums"
    result = run_pp(ChecksumConfig(checksum_types=["md5", "sha1"], output=str(target)), images[1:])
    assert result.artifact.files == [*images[1:], str(target)]
    lengths = [len(line.split("\t")[0]) for line in target.read_text().splitlines()]
    assert lengths == [32, 32, 40, 40]  # per type, then per file, as Packer loops


def test_no_types_writes_nothing(tmp_path: Path, images: list[str]) -> None:
    result = run_pp(ChecksumConfig(checksum_types=[], output=str(tmp_path / "x")), images)
    assert result.artifact.files == images and not (tmp_path / "x").exists()


def test_unknown_type_is_a_config_problem() -> None:
    problems: list[Problem] = []
    decode_config(ChecksumConfig, {"checksum_types": ["sha256", "crc32"]}, render=None, path="pp", problems=problems)
    assert [p.message for p in problems] == ["Unrecognized checksum type: crc32"]


def test_types_accept_a_comma_string_like_packer() -> None:
    problems: list[Problem] = []
    config = decode_config(ChecksumConfig, {"checksum_types": "md5,sha512"}, render=None, path="pp", problems=problems)
    assert problems == [] and config.checksum_types == ["md5", "sha512"]


def test_missing_file_fails_before_writing_anything(tmp_path: Path, images: list[str]) -> None:
    target = tmp_path / "sums"
    with pytest.raises(BuildError, match=r"unable to open file .*gone"):
        run_pp(ChecksumConfig(output=str(target)), [images[0], str(tmp_path / "gone")])
    assert not target.exists()

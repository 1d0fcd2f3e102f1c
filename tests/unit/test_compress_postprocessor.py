"""The compress post-processor: Packer's format detection, level clamping, names, messages, artifact."""

from __future__ import annotations

import asyncio
import gzip
import tarfile
from pathlib import Path

import pytest

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import BuildInfo
from imagesmith.errors import BuildError, Problem
from imagesmith.post_processors.compress import Compress, CompressConfig, detect_format, effective_level
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))


INFO = BuildInfo(build_name="web", builder_type="file", user_variables={"v": "x"})


@pytest.mark.parametrize(
    ("output", "fmt", "expected"),
    [
        ("foo.tar", "", ("tar", "")),
        ("foo.zip", "", ("zip", "")),
        ("foo.tar.gz", "", ("tar", "pgzip")),
        ("foo.gz", "", ("", "pgzip")),
        ("foo.tar.lz4", "", ("tar", "lz4")),
        ("foo.lz4", "", ("", "lz4")),
        ("foo.bgzf", "", ("", "bgzf")),
        ("foo.tar.xz", "", ("tar", "xz")),
        ("foo.xz", "", ("", "xz")),
        ("foo.zst", "", ("", "zstd")),
        ("foo.tar.zst", "", ("tar", "zstd")),
        ("foo", "", ("tar", "pgzip")),
        ("foo.txt", "", ("tar", "pgzip")),
        ("foo.GZ", "", ("tar", "pgzip")),  # Packer's pattern is lower case only
        ("foo.zip.gz", "", ("", "pgzip")),
        ("packer_{{.BuildName}}_{{.BuilderType}}", "", ("tar", "pgzip")),
        ("out.d/image", "", ("tar", "pgzip")),  # "d" is the last extension: unknown
        ("out.d/image.raw.xz", "", ("", "xz")),
        ("image", "tar.xz", ("tar", "xz")),
        ("image.gz", "zip", ("zip", "")),
    ],
)
def test_detect_format_like_packer(output: str, fmt: str, expected: tuple[str, str]) -> None:
    assert detect_format(output, fmt) == expected


@pytest.mark.parametrize(("given", "used"), [(0, 6), (-1, 6), (1, 1), (9, 9), (10, 9), (100, 9), (-2, -2)])
def test_compression_level_clamping(given: int, used: int) -> None:
    assert effective_level(given) == used


def test_config_decodes_with_packer_weak_typing() -> None:
    problems: list[Problem] = []
    config = decode_config(
        CompressConfig,
        {"output": "x.gz", "compression_level": "9", "format": ""},
        render=None,
        path="pp",
        problems=problems,
    )
    assert problems == [] and config.compression_level == 9
    decode_config(CompressConfig, {"outptu": "x"}, render=None, path="pp", problems=problems)
    assert "unknown configuration key" in str(problems[0]) and "output" in str(problems[0])


def run_pp(config: CompressConfig, files: list[str], state: dict[str, object] | None = None) -> tuple:
    ui = RecordingUi()
    artifact = FileArtifact("packer.file", files, state={"generated_data": state} if state else None)
    result = asyncio.run(Compress(config, INFO).post_process(ui, artifact))
    return result, ui.lines


def test_default_output_is_a_tar_gz_named_after_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("disk.raw").write_bytes(b"abc" * 1000)
    result, lines = run_pp(CompressConfig(), ["disk.raw"])
    target = "packer_web_file"
    assert result.keep is False and result.force_override is False
    artifact = result.artifact
    assert artifact.builder_id == "packer.post-processor.compress"
    assert artifact.id == "" and artifact.files == [target]
    assert str(artifact) == f"compressed artifacts in: {target}"
    with tarfile.open(target, "r:gz") as archive:
        assert archive.getnames() == ["disk.raw"]
    messages = [m for _, m in lines]
    assert messages[0].startswith("Using pgzip compression with ") and messages[0].endswith(f" cores for {target}")
    assert messages[1:] == [f"Tarring {target} with pgzip", f"Archive {target} completed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk.raw", target]


def test_output_template_sees_generated_data_and_user_variables(tmp_path: Path) -> None:
    src = tmp_path / "disk.raw"
    src.write_bytes(b"hello")
    output = str(tmp_path / "{{.BuildName}}-{{.BuilderType}}-{{.Extra}}-{{user `v`}}.gz")
    result, lines = run_pp(CompressConfig(output=output), [str(src)], {"Extra": "e1"})
    target = tmp_path / "web-file-e1-x.gz"
    assert result.artifact.files == [str(target)]
    assert gzip.decompress(target.read_bytes()) == b"hello"
    assert lines[1] == ("say", f"Archiving {src} with pgzip")


def test_plain_tar_says_no_compression(tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.write_bytes(b"x")
    _, lines = run_pp(CompressConfig(output=str(tmp_path / "o.tar")), [str(src)])
    assert [m for _, m in lines] == [
        f"Tarring {tmp_path}/o.tar with no compression",
        f"Archive {tmp_path}/o.tar completed",
    ]


def test_several_files_need_an_archive(tmp_path: Path) -> None:
    files = [str(tmp_path / "a"), str(tmp_path / "b")]
    for f in files:
        Path(f).write_bytes(b"x")
    with pytest.raises(BuildError) as info:
        run_pp(CompressConfig(output=str(tmp_path / "out.xz")), files)
    assert str(info.value) == (
        f"Can only have 1 input file when not using tar/zip. Found 2 files: [{files[0]} {files[1]}]"
    )
    assert not (tmp_path / "out.xz").exists()


def test_invalid_gzip_level_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.write_bytes(b"x")
    with pytest.raises(BuildError, match="Invalid compression level"):
        run_pp(CompressConfig(output=str(tmp_path / "a.gz"), compression_level=-3), [str(src)])


def test_missing_input_is_a_build_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="Failed to compress"):
        run_pp(CompressConfig(output=str(tmp_path / "o" / "a.lz4")), [str(tmp_path / "gone")])
    assert list((tmp_path / "o").iterdir()) == []


def test_zip_output(tmp_path: Path) -> None:
    src = tmp_path / "a.raw"
    src.write_bytes(b"zipped" * 100)
    result, lines = run_pp(CompressConfig(output=str(tmp_path / "a.zip")), [str(src)])
    assert [m for _, m in lines] == [f"Zipping {tmp_path}/a.zip", f"Archive {tmp_path}/a.zip completed"]
    assert Path(result.artifact.files[0]).read_bytes()[:2] == b"PK"


def test_destroy_removes_the_output(tmp_path: Path) -> None:
    src = tmp_path / "a.raw"
    src.write_bytes(b"x")
    result, _ = run_pp(CompressConfig(output=str(tmp_path / "a.raw.gz")), [str(src)])
    asyncio.run(result.artifact.destroy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.raw"]


def test_bad_output_template_is_a_config_problem() -> None:
    problems: list[Problem] = []
    decode_config(CompressConfig, {"output": "{{.BuildName"}, render=None, path="pp", problems=problems)
    assert len(problems) == 1 and problems[0].message.startswith("Error parsing target template: ")
    problems.clear()
    decode_config(CompressConfig, {"output": "{{nosuchfunc}}.gz"}, render=None, path="pp", problems=problems)
    assert len(problems) == 1 and "nosuchfunc" in problems[0].message

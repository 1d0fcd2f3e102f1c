"""compress and checksum against Packer 1.6.6: the same template built by both tools must give
the same artifacts (builder ids, ids, descriptions, files), the same decompressed contents, the
same archive member names and the same checksum files."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import tarfile
import zipfile
from pathlib import Path

import lz4.frame
import pytest

from tests.conftest import run_cli, run_packer

pytestmark = [pytest.mark.compat, pytest.mark.integration]

COMPRESS = [
    "out/{{.BuildName}}.tar.gz",
    "out/plain.tar",
    "out/x.zip",
    "out/x.lz4",
    "out/x.xz",
    "out/x.bgzf",
    "out/fast.gz",
]


def template() -> dict[str, object]:
    chains: list[object] = [
        [
            {"type": "compress", "output": COMPRESS[0], "keep_input_artifact": True},
            {"type": "checksum", "checksum_types": ["md5", "sha256"]},
        ],
        {
            "type": "checksum",
            "checksum_types": ["sha1", "sha224", "sha384", "sha512"],
            "output": "out/{{.ChecksumType}}.sum",
        },
    ]
    chains += [{"type": "compress", "output": out, "keep_input_artifact": True} for out in COMPRESS[1:-1]]
    chains.append({"type": "compress", "output": COMPRESS[-1], "compression_level": 1, "keep_input_artifact": True})
    return {"builders": [{"type": "file", "source": "src.bin", "target": "out/disk.raw"}], "post-processors": chains}


def artifacts(machine_output: str) -> list[list[str]]:
    """The artifact lines of machine-readable output, without timestamps."""
    return [line.split(",")[1:] for line in machine_output.splitlines() if ",artifact," in line]


def unpack(path: Path) -> dict[str, bytes]:
    """Member name -> contents, whatever the format."""
    name = path.name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            return {m: archive.read(m) for m in archive.namelist()}
    if ".tar" in name or "." not in name:
        with tarfile.open(path) as archive:
            return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    data = path.read_bytes()
    if name.endswith((".gz", ".bgzf")):
        return {"": gzip.decompress(data)}
    if name.endswith(".xz"):
        return {"": lzma.decompress(data)}
    if name.endswith(".lz4"):
        out = []
        while data:
            frame = lz4.frame.LZ4FrameDecompressor()
            out.append(frame.decompress(data))
            data = frame.unused_data
        return {"": b"".join(out)}
    raise AssertionError(f"unknown format: {name}")


def build_both(tmp_path: Path, tmpl: dict[str, object], src: bytes) -> dict[str, tuple[int, str, Path]]:
    results = {}
    for tool, run in (("packer", run_packer), ("imagesmith", run_cli)):
        work = tmp_path / tool
        work.mkdir()
        (work / "src.bin").write_bytes(src)
        (work / "a.bin").write_bytes(src[:1000])
        (work / "template.json").write_text(json.dumps(tmpl))
        done = run("-machine-readable", "build", "template.json", cwd=work)
        results[tool] = (done.returncode, done.stdout, work)
    return results


def test_same_artifacts_contents_and_checksums(tmp_path: Path, need_packer: None) -> None:
    src = os.urandom(1 << 20) + b"text line\n" * 200_000
    results = build_both(tmp_path, template(), src)
    (p_rc, p_out, p_dir), (i_rc, i_out, i_dir) = results["packer"], results["imagesmith"]
    assert (p_rc, i_rc) == (0, 0), i_out
    assert len(artifacts(p_out)) == 10 * 6 + 2 + 4  # 10 artifacts; the two checksum ones list more files
    assert artifacts(i_out) == artifacts(p_out)
    for output in COMPRESS:
        name = output.replace("{{.BuildName}}", "file")
        theirs, ours = unpack(p_dir / name), unpack(i_dir / name)
        assert ours == theirs, name
        assert next(iter(ours.values())) == src
    for name in ("sha1", "sha224", "sha384", "sha512"):  # checksums of the same raw file
        assert (i_dir / "out" / f"{name}.sum").read_text() == (p_dir / "out" / f"{name}.sum").read_text()
    for name in ("md5", "sha256"):  # checksums of different compressed bytes: same layout
        ours = (i_dir / f"packer_file_file_{name}.checksum").read_text()
        theirs = (p_dir / f"packer_file_file_{name}.checksum").read_text()
        assert [line.split("\t")[1] for line in ours.splitlines()] == ["file.tar.gz"]
        assert [len(line.split("\t")[0]) for line in ours.splitlines()] == [
            len(t.split("\t")[0]) for t in theirs.splitlines()
        ]


def test_two_files_without_an_archive_fail_like_packer(tmp_path: Path, need_packer: None) -> None:
    tmpl = {
        "builders": [{"type": "file", "source": "src.bin", "target": "disk.raw"}],
        "post-processors": [
            [
                {"type": "artifice", "files": ["disk.raw", "a.bin"]},
                {"type": "compress", "output": "both.tar.gz", "keep_input_artifact": True},
                {"type": "checksum", "checksum_types": ["sha256"], "output": "both.sum"},
            ],
            [
                {"type": "artifice", "files": ["disk.raw", "a.bin"]},
                {"type": "compress", "output": "both.gz", "keep_input_artifact": True},
            ],
        ],
    }
    src = b"0123456789" * 5000
    results = build_both(tmp_path, tmpl, src)
    (p_rc, p_out, p_dir), (i_rc, i_out, i_dir) = results["packer"], results["imagesmith"]
    assert p_rc == i_rc == 1
    message = "Can only have 1 input file when not using tar/zip. Found 2 files: [disk.raw a.bin]"
    assert message in p_out and message in i_out
    assert unpack(i_dir / "both.tar.gz") == unpack(p_dir / "both.tar.gz") == {"disk.raw": src, "a.bin": src[:1000]}
    assert not (i_dir / "both.gz").exists()  # Packer leaves an empty both.gz behind; imagesmith leaves nothing

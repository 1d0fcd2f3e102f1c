"""The docker communicator's tar streams, read back with tarfile (no daemon)."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from pathlib import Path

from imagesmith.communicator.docker import _file_info, _tar_single, _tar_tree


async def collect(chunks: object) -> bytes:
    out = bytearray()
    async for chunk in chunks:  # type: ignore[attr-defined]
        out += chunk
    return bytes(out)


def make_tree(root: Path) -> Path:
    (root / "tree" / "sub").mkdir(parents=True)
    (root / "tree" / "a.txt").write_text("a")
    (root / "tree" / "sub" / "big.bin").write_bytes(os.urandom(3 << 20))
    (root / "tree" / "skip.log").write_text("no")
    os.chmod(root / "tree" / "sub", 0o750)
    os.symlink("a.txt", root / "tree" / "link")
    return root / "tree"


def test_tree_under_a_prefix_keeps_symlinks_modes_and_contents(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    data = asyncio.run(collect(_tar_tree(tree, "dest", ["*.log"])))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["dest", "dest/a.txt", "dest/link", "dest/sub", "dest/sub/big.bin"]
        assert members["dest/link"].issym() and members["dest/link"].linkname == "a.txt"
        assert members["dest/sub"].mode == 0o750
        big = tar.extractfile(members["dest/sub/big.bin"])
        assert big is not None and big.read() == (tree / "sub" / "big.bin").read_bytes()


def test_tree_contents_only(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    data = asyncio.run(collect(_tar_tree(tree, "", [])))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == ["a.txt", "link", "skip.log", "sub", "sub/big.bin"]


def test_single_file_stream(tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x" * 1000)
    os.chmod(src, 0o640)
    info = _file_info(src, "renamed", None)
    data = asyncio.run(collect(_tar_single(info, src)))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        (member,) = tar.getmembers()
        assert (member.name, member.mode, member.size) == ("renamed", 0o640, 1000)
        body = tar.extractfile(member)
        assert body is not None and body.read() == b"x" * 1000

"""The docker communicator's tar streams, read back with tarfile (no daemon)."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from pathlib import Path

from imagesmith.communicator.docker_batch import UploadBatch
from imagesmith.communicator.docker_tar import (
    FilePart,
    Owner,
    TreePart,
    file_info,
    known_owner,
    resolve_owner,
    tar_parts,
    tar_single,
    tar_tree,
)


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
    data = asyncio.run(collect(tar_tree(tree, "dest", ["*.log"])))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["dest", "dest/a.txt", "dest/link", "dest/sub", "dest/sub/big.bin"]
        assert members["dest/link"].issym() and members["dest/link"].linkname == "a.txt"
        assert members["dest/sub"].mode == 0o750
        big = tar.extractfile(members["dest/sub/big.bin"])
        assert big is not None and big.read() == (tree / "sub" / "big.bin").read_bytes()


def test_tree_contents_only(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    data = asyncio.run(collect(tar_tree(tree, "", [])))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == ["a.txt", "link", "skip.log", "sub", "sub/big.bin"]


def test_single_file_stream(tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x" * 1000)
    os.chmod(src, 0o640)
    info = file_info(src, "renamed", None)
    data = asyncio.run(collect(tar_single(info, src)))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        (member,) = tar.getmembers()
        assert (member.name, member.mode, member.size) == ("renamed", 0o640, 1000)
        body = tar.extractfile(member)
        assert body is not None and body.read() == b"x" * 1000


def test_tree_headers_carry_the_owner_chown_would_set(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    os.chown(tree / "a.txt", 4321, 4321)
    data = asyncio.run(collect(tar_tree(tree, "dest", [], Owner(1500))))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert {m.uid for m in members.values()} == {1500}  # the symlink too: chown -R does not follow it
    assert members["dest/a.txt"].gid == 4321  # `chown -R user` keeps the group
    data = asyncio.run(collect(tar_tree(tree, "", [], Owner(7, 8))))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert {(m.uid, m.gid) for m in tar.getmembers()} == {(7, 8)}


PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1500:1600::/home/app:/bin/sh\n"
GROUP = "root:x:0:\nstaff:x:50:\n"


def test_owner_of_the_container_user() -> None:
    assert known_owner("root") == Owner(0) and known_owner("") == Owner(0)
    assert known_owner("1000") == Owner(1000) and known_owner("1000:1001") == Owner(1000, 1001)
    assert known_owner("app") is None and known_owner("0:staff") is None
    assert resolve_owner("app", PASSWD, GROUP) == Owner(1500)  # the user only, like chown -R app
    assert resolve_owner("app:staff", PASSWD, GROUP) == Owner(1500, 50)
    assert resolve_owner("42:staff", PASSWD, GROUP) == Owner(42, 50)


def test_unknown_owner_fails_as_chown_would() -> None:
    import pytest

    from imagesmith.errors import BuildError

    with pytest.raises(BuildError, match="unknown user nobody"):
        resolve_owner("nobody", PASSWD, GROUP)
    with pytest.raises(BuildError, match="unknown group wheel"):
        resolve_owner("app:wheel", PASSWD, GROUP)


def test_parts_make_one_stream_with_every_entry_in_order(tmp_path: Path) -> None:
    tree = make_tree(tmp_path)
    single = tmp_path / "single.conf"
    single.write_text("key=value\n")
    parts = [
        FilePart(Owner(7).apply(file_info(single, "app.conf", None)), single),
        FilePart(Owner(7).apply(file_info(single, "from-memory", 0o600)), b"key=value\n"),
        TreePart(tree, "site", ["*.log"], Owner(7, 8)),
    ]
    data = asyncio.run(collect(tar_parts(parts)))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [
            "app.conf",
            "from-memory",
            "site",
            "site/a.txt",
            "site/link",
            "site/sub",
            "site/sub/big.bin",
        ]
        assert [m.uid for m in members] == [7] * 7
        assert members[0].gid == os.getgid() and members[3].gid == 8
        conf = tar.extractfile(members[0])
        assert conf is not None and conf.read() == b"key=value\n"


def test_a_batch_knows_which_paths_its_extraction_may_change(tmp_path: Path) -> None:
    batch = UploadBatch("/srv/app")
    single = tmp_path / "single.conf"
    single.write_text("x")
    batch.add(FilePart(file_info(single, "app.conf", None), single), "/srv/app/app.conf")
    batch.add(TreePart(tmp_path, "site"), "/srv/app/site")
    assert batch.touches("/srv/app/site") and batch.touches("/srv/app/site/x/") and batch.touches("/srv/app/app.conf")
    assert not batch.touches("/srv/app/sites") and not batch.touches("/srv/app") and not batch.touches("/etc/passwd")
    contents = UploadBatch("/etc")
    contents.add(TreePart(tmp_path, ""), "/etc")  # a directory's contents: anything under /etc
    assert contents.touches("/etc/passwd") and not contents.touches("/srv")

    alone = UploadBatch("/srv/app")  # one file goes out exactly as it did before batching
    info = file_info(single, "app.conf", None)
    alone.add(FilePart(info, single), "/srv/app/app.conf")
    assert asyncio.run(collect(alone.stream())) == asyncio.run(collect(tar_single(info, single)))

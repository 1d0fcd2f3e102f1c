"""The compression package: every codec round-trips through the standard tools, block framing,
tar/zip layout, atomic output and cancellation."""

from __future__ import annotations

import asyncio
import gzip
import io
import lzma
import os
import shutil
import struct
import subprocess
import tarfile
import threading
import zipfile
from pathlib import Path

import lz4.frame
import pytest
import zstandard

from imagesmith.compression import CompressionCancelled, CompressJob, codecs, open_compressor, run_cancellable, run_job
from imagesmith.compression.blocks import BlockWriter

DECOMPRESS = {
    "pgzip": lambda b: gzip.decompress(b),
    "bgzf": lambda b: gzip.decompress(b),
    "xz": lambda b: lzma.decompress(b),
    "lz4": lambda b: b"".join(_lz4_frames(b)),
    "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
    "": lambda b: b,
}
CLI = {"pgzip": "gzip", "bgzf": "gzip", "xz": "xz", "lz4": "lz4", "zstd": "zstd"}


def _lz4_frames(data: bytes) -> list[bytes]:
    out = []
    while data:
        d = lz4.frame.LZ4FrameDecompressor()
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def sample(size: int) -> bytes:
    """Half compressible text, half random, so every codec has work of both kinds."""
    text = b"".join(b"line %d of a disk image full of words and numbers\n" % i for i in range(size // 80 + 1))
    return (text[: size // 2] + os.urandom(size - size // 2))[:size]


def compress_bytes(algorithm: str, data: bytes, level: int = 6, threads: int = 2, piece: int = 100_000) -> bytes:
    buf = io.BytesIO()
    writer = open_compressor(algorithm, buf, level, threads)
    for start in range(0, len(data), piece):
        writer.write(data[start : start + piece])
    writer.close()
    return buf.getvalue()


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrink block sizes so a few hundred KiB span many blocks."""
    monkeypatch.setattr(codecs, "XZ_BLOCK", 64 << 10)
    monkeypatch.setattr(codecs, "LZ4_BLOCK", 48 << 10)
    monkeypatch.setattr(codecs, "BGZF_BATCH", 2)


@pytest.mark.parametrize("algorithm", ["pgzip", "zstd", "xz", "lz4", "bgzf", ""])
@pytest.mark.parametrize("size", [0, 1, 300_001])
def test_round_trip_in_python(algorithm: str, size: int, small_blocks: None) -> None:
    data = sample(size)
    assert DECOMPRESS[algorithm](compress_bytes(algorithm, data)) == data


@pytest.mark.parametrize("algorithm", ["pgzip", "zstd", "xz", "lz4", "bgzf"])
@pytest.mark.parametrize("size", [0, 700_003])
def test_round_trip_with_the_command_line_tool(algorithm: str, size: int, small_blocks: None) -> None:
    tool = CLI[algorithm]
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed")
    data = sample(size)
    packed = compress_bytes(algorithm, data)
    done = subprocess.run([tool, "-d", "-c"], input=packed, capture_output=True, check=True)
    assert done.stdout == data


def test_xz_writes_one_stream_per_block(small_blocks: None, tmp_path: Path) -> None:
    packed = compress_bytes("xz", sample(300_000))
    assert packed.count(b"\xfd7zXZ\x00") == 5  # ceil(300000 / 65536) streams, each with its magic
    (tmp_path / "a.xz").write_bytes(packed)
    listing = subprocess.run(["xz", "--robot", "-l", str(tmp_path / "a.xz")], capture_output=True, check=True)
    assert "totals\t5\t5\t" in listing.stdout.decode()


def test_bgzf_blocks_follow_the_spec(small_blocks: None) -> None:
    data = sample(200_000)
    packed = compress_bytes("bgzf", data, piece=7_777)
    assert packed.endswith(codecs.BGZF_EOF)
    offset, sizes = 0, []
    while offset < len(packed):
        magic, method, flags, xlen, si1, si2, slen, bsize = struct.unpack_from("<HBB6xHBBHH", packed, offset)
        assert (magic, method, flags, xlen, si1, si2, slen) == (0x8B1F, 8, 4, 6, 66, 67, 2)
        block = packed[offset : offset + bsize + 1]
        isize = struct.unpack_from("<I", block, len(block) - 4)[0]
        assert isize <= codecs.BGZF_DATA and len(block) <= 0x10000
        sizes.append(isize)
        offset += bsize + 1
    assert sizes[-1] == 0 and sum(sizes) == len(data)
    assert all(s == codecs.BGZF_DATA for s in sizes[:-2])


def test_bgzf_stores_incompressible_blocks_within_64k() -> None:
    data = os.urandom(3 * codecs.BGZF_DATA)
    packed = compress_bytes("bgzf", data, level=1)
    assert gzip.decompress(packed) == data
    assert len(packed) < len(data) + 4 * 64


@pytest.mark.parametrize(
    ("level", "gzip_level", "xz_preset", "lz4_level", "zstd_level"),
    [(1, 1, 0, 0, 1), (5, 2, 1, 0, 3), (6, 3, 1, 0, 3), (7, 3, 3, 4, 6), (9, 3, 9, 12, 19), (-2, 0, 1, 0, 3)],
)
def test_level_mappings(level: int, gzip_level: int, xz_preset: int, lz4_level: int, zstd_level: int) -> None:
    assert codecs.gzip_level(level) == gzip_level
    assert codecs.xz_preset(level) == xz_preset
    assert codecs.lz4_level(level) == lz4_level
    assert codecs.zstd_level(level) == zstd_level


@pytest.mark.parametrize("write_size", [1, 10, 99, 100, 101, 250, 1000])
def test_block_writer_cuts_fixed_blocks_in_order(write_size: int) -> None:
    buf = io.BytesIO()
    writer = BlockWriter(buf, lambda b, _: b"[" + b + b"]", block_size=100, threads=3, trailer=b"END")
    data = bytes(range(256)) * 3
    for start in range(0, len(data), write_size):
        writer.write(data[start : start + write_size])
    writer.close()
    expected = b"".join(b"[" + data[i : i + 100] + b"]" for i in range(0, len(data), 100)) + b"END"
    assert buf.getvalue() == expected


def test_block_writer_reports_a_failing_block() -> None:
    def explode(block: bytes, previous: bytes) -> bytes:
        raise RuntimeError("codec failed")

    writer = BlockWriter(io.BytesIO(), explode, block_size=10, threads=2)
    writer.write(b"x" * 5)
    with pytest.raises(RuntimeError, match="codec failed"):
        writer.close()


def test_tar_follows_packer_layout(tmp_path: Path) -> None:
    one = tmp_path / "dir" / "one.raw"
    one.parent.mkdir()
    one.write_bytes(sample(5000))
    one.chmod(0o640)
    two = tmp_path / "two.bin"
    two.write_bytes(b"")
    target = tmp_path / "out" / "x.tar"
    run_job(CompressJob([str(one), str(two)], str(target), "tar", ""), lambda n: None, threading.Event())
    raw = target.read_bytes()
    assert len(raw) % 512 == 0 and raw.endswith(bytes(1024))
    assert len(raw) == 512 + 5120 + 512 + 1024  # Go's writer: no padding to a 10 KiB record
    with tarfile.open(target) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == ["one.raw", "two.bin"]
        assert members[0].mtime == 0 and members[0].mode == 0o640 and members[0].size == 5000
        assert raw[257:265] == b"ustar  \x00"  # GNU magic
        extracted = archive.extractfile(members[0])
        assert extracted is not None and extracted.read() == one.read_bytes()


def test_tar_gz_round_trips_with_tar(tmp_path: Path) -> None:
    src = tmp_path / "disk.img"
    src.write_bytes(sample(1_000_000))
    target = tmp_path / "disk.tar.gz"
    run_job(CompressJob([str(src)], str(target), "tar", "pgzip"), lambda n: None, threading.Event())
    out = subprocess.run(["tar", "-xzOf", str(target), "disk.img"], capture_output=True, check=True)
    assert out.stdout == src.read_bytes()


def test_zip_names_and_contents(tmp_path: Path) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(sample(200_000))
    target = tmp_path / "out.zip"
    progress: list[int] = []
    run_job(CompressJob([str(src)], str(target), "zip", ""), progress.append, threading.Event())
    assert sum(progress) == 200_000
    with zipfile.ZipFile(target) as archive:
        (info,) = archive.infolist()
        assert info.filename == str(src).lstrip("/")
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < 200_000
        assert archive.read(info) == src.read_bytes()
    assert subprocess.run(["unzip", "-tq", str(target)], capture_output=True).returncode == 0


def test_progress_counts_every_input_byte(tmp_path: Path) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(sample(9_000_000))
    seen: list[int] = []
    run_job(CompressJob([str(src)], str(tmp_path / "a.img.zst"), "", "zstd"), seen.append, threading.Event())
    assert sum(seen) == 9_000_000 and len(seen) == 3  # 4 MiB reads


def test_cancel_leaves_nothing_behind(tmp_path: Path) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(sample(10_000_000))
    cancel = threading.Event()
    with pytest.raises(CompressionCancelled):
        run_job(CompressJob([str(src)], str(tmp_path / "a.img.gz"), "", "pgzip"), lambda n: cancel.set(), cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.img"]


def test_failure_in_the_middle_leaves_nothing_behind(tmp_path: Path) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(sample(1000))
    with pytest.raises(FileNotFoundError):
        run_job(
            CompressJob([str(src), str(tmp_path / "gone")], str(tmp_path / "x.tar.xz"), "tar", "xz"),
            lambda n: None,
            threading.Event(),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.img"]


def test_existing_output_is_replaced_only_when_complete(tmp_path: Path) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(sample(1000))
    target = tmp_path / "a.img.lz4"
    target.write_bytes(b"old")
    cancel = threading.Event()
    with pytest.raises(CompressionCancelled):
        run_job(CompressJob([str(src)], str(target), "", "lz4"), lambda n: None, _set(cancel))
    assert target.read_bytes() == b"old"
    run_job(CompressJob([str(src)], str(target), "", "lz4"), lambda n: None, threading.Event())
    assert DECOMPRESS["lz4"](target.read_bytes()) == src.read_bytes()


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


def test_cancelling_the_task_stops_the_thread_and_removes_the_partial_file(tmp_path: Path, small_blocks: None) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(os.urandom(16 << 20))
    started = threading.Event()

    def progress(n: int) -> None:
        started.set()

    async def scenario() -> None:
        job = CompressJob([str(src)], str(tmp_path / "a.img.xz"), "", "xz", 9, 1)
        task = asyncio.create_task(run_cancellable(lambda cancel: run_job(job, progress, cancel)))
        while not started.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.img"]
    assert not [t for t in threading.enumerate() if t.name.startswith("compress")]


def test_block_formats_count_progress_when_blocks_are_written(tmp_path: Path, small_blocks: None) -> None:
    src = tmp_path / "a.img"
    src.write_bytes(sample(1_000_000))
    seen: list[int] = []
    run_job(CompressJob([str(src)], str(tmp_path / "a.img.xz"), "", "xz"), seen.append, threading.Event())
    assert sum(seen) == 1_000_000 and max(seen) == 64 << 10


def test_chained_blocks_get_the_tail_of_the_block_before() -> None:
    buf = io.BytesIO()
    writer = BlockWriter(buf, lambda b, prev: prev + b"|", block_size=4, threads=2, chain=2, compress_empty=False)
    writer.write(b"abcdefghij")
    writer.close()
    assert buf.getvalue() == b"|cd|gh|"


def test_gzip_packs_zero_blocks_tighter_than_packer() -> None:
    zeros = bytes(8 << 20)
    packed = compress_bytes("pgzip", zeros, piece=1 << 20)
    assert gzip.decompress(packed) == zeros
    assert len(packed) < 10_000  # Packer's pgzip: 15 KiB for 8 MiB of zeros


@pytest.mark.parametrize("level", [-2, 1, 4, 6, 9])
def test_gzip_levels_with_mixed_zero_and_data_blocks(level: int) -> None:
    data = bytes(1 << 20) + sample(1_500_000) + bytes(3 << 20) + b"tail"
    packed = compress_bytes("pgzip", data, level=level, piece=333_333)
    assert subprocess.run(["gzip", "-dc"], input=packed, capture_output=True, check=True).stdout == data


def test_gzip_level_per_block() -> None:
    from imagesmith.compression.pgzip import BLOCK, STORE, ParallelGzipWriter

    writer = ParallelGzipWriter(io.BytesIO(), 3, 1)
    try:
        assert writer._choose_level(bytes(BLOCK)) == 1
        assert writer._choose_level(bytes(1000)) == 1
        assert writer._choose_level(os.urandom(BLOCK)) == STORE
        assert writer._choose_level(sample(2 * BLOCK)[:BLOCK]) == 3  # text
        assert writer._choose_level(os.urandom(BLOCK // 2) + sample(BLOCK)[: BLOCK // 2]) == 3  # half text
        assert writer._choose_level(os.urandom(BLOCK - 300_000) + sample(600_000)[:300_000]) == 3  # last quarter
    finally:
        writer.close()


def test_random_data_is_stored_in_the_same_bytes_isal_would_use() -> None:
    from isal import isal_zlib

    data = os.urandom(5 << 20)
    packed = compress_bytes("pgzip", data, piece=1 << 20)
    assert subprocess.run(["gzip", "-dc"], input=packed, capture_output=True, check=True).stdout == data
    reference = isal_zlib.compress(data, 3, wbits=31)
    assert len(data) < len(packed) <= len(reference)


def test_bgzf_zero_and_random_pieces(small_blocks: None) -> None:
    data = bytes(200_000) + os.urandom(150_000) + sample(100_000) + bytes(10)
    packed = compress_bytes("bgzf", data, piece=65_536)
    assert subprocess.run(["gzip", "-dc"], input=packed, capture_output=True, check=True).stdout == data
    assert len(packed) < 150_000 + 100_000


@pytest.mark.parametrize(("level", "archive"), [(1, ""), (6, ""), (6, "tar")])
def test_gzip_zero_blocks_fit_after_any_block_in_a_real_file(
    level: int, archive: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole zero blocks take the precomputed path (they never reach the compression threads), also
    right after random (stored, written with writev) and text blocks, at the start and the end of the
    file, and in a tar, whose header shifts every block off the file's own 1 MiB boundaries."""
    from imagesmith.compression.pgzip import BLOCK, ParallelGzipWriter

    compressed: list[bool] = []  # per block sent to the threads: was it a whole zero block?
    original = ParallelGzipWriter._compress

    def spy(self: ParallelGzipWriter, block: bytes, previous: bytes) -> object:
        compressed.append(len(block) == BLOCK and not any(block))
        return original(self, block, previous)

    monkeypatch.setattr(ParallelGzipWriter, "_compress", spy)

    pieces = [bytes(BLOCK), os.urandom(BLOCK), bytes(BLOCK), sample(2 * BLOCK)[:BLOCK], bytes(BLOCK)]
    pieces += [b"odd" * 1000, bytes(BLOCK), bytes(BLOCK)]
    data = b"".join(pieces)
    src, target = tmp_path / "disk.raw", tmp_path / "disk.raw.gz"
    src.write_bytes(data)
    run_job(CompressJob([str(src)], str(target), archive, "pgzip", level), lambda n: None, threading.Event())
    unpack = ["tar", "-xzOf"] if archive else ["gzip", "-dc"]
    out = subprocess.run([*unpack, str(target)], capture_output=True, check=True).stdout
    assert out == data
    assert len(target.read_bytes()) < BLOCK + 2 * (BLOCK // 3)  # random stored, the rest compressed
    assert compressed and not any(compressed)


def test_gzip_stored_blocks_through_a_pipe() -> None:
    """writev also works when the output is a pipe (no seeking), e.g. a compressor feeding another process."""
    data = os.urandom(3 << 20) + bytes(1 << 20)
    with subprocess.Popen(["gzip", "-dc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
        out: list[bytes] = []
        reader.start()
        writer = open_compressor("pgzip", proc.stdin, 6, 2)
        for start in range(0, len(data), 1 << 20):
            writer.write(data[start : start + (1 << 20)])
        writer.close()
        proc.stdin.close()
        reader.join()
    assert proc.returncode == 0 and out == [data]

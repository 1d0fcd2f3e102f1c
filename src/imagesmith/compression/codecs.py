"""Compressing writers for each algorithm, all using every core.

``open_compressor(algorithm, raw, level, threads)`` wraps the open binary file ``raw`` in a
write-only file object; closing it finishes the stream and leaves ``raw`` open. ``level`` is
Packer's ``compression_level`` after its clamping (1..9, 6 by default); each codec maps it onto
its own scale (see the ``*_level`` functions, whose mappings ``bench/compress.py`` measured).

* ``pgzip``: one gzip member compressed in 1 MiB blocks on all threads by ISA-L (:mod:`.pgzip`);
* ``zstd``: one zstd frame with a checksum, zstd's own worker threads;
* ``xz``: independent 24 MiB blocks, each a complete xz stream, concatenated (``xz -d`` and
  Python's lzma read concatenated streams; ``xz -T0`` splits its input the same way);
* ``lz4``: independent 2 MiB lz4 frames of 1 MiB blocks, concatenated (``lz4 -d`` reads them in
  sequence); without the optional content checksum, which python-lz4 computes at a quarter of
  the compression speed;
* ``bgzf``: BGZF (blocked gzip: 64 KiB gzip members with a ``BC`` extra field and the EOF block),
  deflated by ISA-L on all threads.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, Protocol

from imagesmith.compression.blocks import Block, BlockCompressor, BlockWriter
from imagesmith.compression.pgzip import ParallelGzipWriter

#: compression algorithms (Packer's names; "" means no compression)
ALGORITHMS = ("", "pgzip", "zstd", "xz", "lz4", "bgzf")

XZ_BLOCK = 24 << 20
LZ4_BLOCK = 2 << 20  # bigger pieces cost fresh memory pages on each allocation: 3x slower on random data
BGZF_DATA = 0xFF00  # uncompressed bytes per BGZF block, as biogo/hts and htslib use
BGZF_BATCH = 64  # BGZF blocks per thread task (about 4 MiB)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


def count_threads(threads: int = 0) -> int:
    """``threads``, or every core this process may use when ``threads`` is 0."""
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def gzip_level(level: int) -> int:
    """ISA-L level (0..3) for a Packer gzip level (1..9; -2 is Go's Huffman-only).

    The default 6 maps to ISA-L's best, 3: on an ext4 image of /usr files it is 3.3x as fast as
    Packer's pgzip on 2 cores with output 4.8% larger (bench/RESULTS.md).
    """
    if level <= 0:
        return 0
    if level <= 3:
        return 1
    if level <= 5:
        return 2
    return 3


def zstd_level(level: int) -> int:
    """zstd level for a Packer level: the default 6 gives zstd's own default, 3."""
    return {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 6, 8: 12, 9: 19}.get(level, 3)


def xz_preset(level: int) -> int:
    """xz preset for a Packer level. Packer's xz ignores the level; its library's default output
    lies between presets 0 and 1, so the default 6 maps to preset 1 (smaller, and faster on all cores)."""
    return {1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 1, 7: 3, 8: 6, 9: 9}.get(level, 1)


def lz4_level(level: int) -> int:
    """python-lz4 frame level for a Packer level: fast mode up to 6 (Packer's lz4 output is within
    a few percent of lz4's fast mode), lz4's HC levels for 7 to 9."""
    return {7: 4, 8: 9, 9: 12}.get(level, 0)


def open_compressor(algorithm: str, raw: BinaryIO, level: int, threads: int = 0) -> Writer:
    """A writer compressing into ``raw`` with ``algorithm`` on ``threads`` threads (0 = all)."""
    threads = count_threads(threads)
    if algorithm == "":
        return _Plain(raw)
    if algorithm == "pgzip":
        return ParallelGzipWriter(raw, gzip_level(level), threads)
    if algorithm == "zstd":
        import zstandard

        compressor = zstandard.ZstdCompressor(level=zstd_level(level), threads=threads, write_checksum=True)
        return _ZstdWriter(compressor.stream_writer(raw, closefd=False))
    if algorithm == "xz":
        return BlockWriter(raw, _xz_block(xz_preset(level)), block_size=XZ_BLOCK, threads=threads)
    if algorithm == "lz4":
        return BlockWriter(raw, _lz4_block(lz4_level(level)), block_size=LZ4_BLOCK, threads=threads)
    if algorithm == "bgzf":
        return BlockWriter(
            raw,
            _bgzf_batch(gzip_level(level)),
            block_size=BGZF_DATA * BGZF_BATCH,
            threads=threads,
            trailer=BGZF_EOF,
            compress_empty=False,
        )
    raise ValueError(f"unknown compression algorithm {algorithm!r}")


class _Plain:
    """No compression: straight to the file."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def write(self, data: bytes, /) -> int:
        return self._raw.write(data)

    def close(self) -> None:
        self._raw.flush()


class _ZstdWriter:
    """zstandard's stream writer, closed with its frame finished but ``raw`` left open."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def write(self, data: bytes, /) -> int:
        return self._inner.write(data)

    def close(self) -> None:
        self._inner.close()


def _xz_block(preset: int) -> BlockCompressor:
    import lzma

    def compress(block: Block, previous: bytes) -> bytes:
        return lzma.compress(block, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=preset)

    return compress


def _lz4_block(level: int) -> BlockCompressor:
    import lz4.frame

    def compress(block: Block, previous: bytes) -> bytes:
        data: bytes = lz4.frame.compress(block, compression_level=level, block_size=lz4.frame.BLOCKSIZE_MAX1MB)
        return data

    return compress


def _bgzf_batch(level: int) -> BlockCompressor:
    """BGZF blocks for a batch of input: zero pieces at ISA-L level 1 (tighter and faster), pieces
    whose start and middle do not compress stored as they are, the rest at ``level``."""
    import zlib

    from isal import isal_zlib

    limit = 0x10000 - 26  # a BGZF block, header and trailer included, is at most 64 KiB
    zero = bytes(BGZF_DATA)

    def deflate(piece: Block) -> bytes:
        if piece == zero[: len(piece)]:
            return isal_zlib.compress(piece, min(level, 1), wbits=-15)
        probes = (piece[:4096], piece[len(piece) // 2 : len(piece) // 2 + 4096])
        if len(piece) > 16384 and all(len(isal_zlib.compress(p, 1, wbits=-15)) >= len(p) * 0.97 for p in probes):
            return zlib.compress(piece, 0, wbits=-15)
        data = isal_zlib.compress(piece, level, wbits=-15)
        return data if len(data) <= limit else zlib.compress(piece, 0, wbits=-15)

    def compress(batch: Block, previous: bytes) -> bytes:
        out = bytearray()
        for start in range(0, len(batch), BGZF_DATA):
            piece = batch[start : start + BGZF_DATA]
            data = deflate(piece)
            out += struct.pack("<4BI2BH2BHH", 0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, 66, 67, 2, len(data) + 25)
            out += data
            out += struct.pack("<II", isal_zlib.crc32(piece), len(piece))
        return bytes(out)

    return compress

"""Parallel gzip: one gzip member whose 1 MiB blocks are deflated on all threads by ISA-L.

This is how pigz, Go's pgzip and ISA-L's own ``igzip_threaded`` work: each block is deflated
with the previous block's last 32 KiB as its dictionary and ends on a byte boundary (a sync
flush), so the pieces concatenate into one valid deflate stream. The CRC is computed on the
writing thread, where ISA-L's CRC runs at many GB/s.

Unlike ``igzip_threaded`` the level is chosen per block. An all-zero block (free space in a
disk image) is recognised as it is written and costs no compression at all: its deflated form
(ISA-L level 1, which packs zeros about 3.5 times tighter than level 3) is computed once per
writer, without a dictionary so it fits after any block, and its CRC is combined arithmetically.
A block none of whose four probes compresses (already compressed files, encrypted data) is
written as stored deflate blocks, the same number of bytes that ISA-L would produce, handed to
``writev`` as headers and slices of the block, so no byte of it is copied in Python.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from typing import BinaryIO

from imagesmith.compression.blocks import Block, BlockWriter, Compressed

BLOCK = 1 << 20
WINDOW = 32 << 10
HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])  # no name, no mtime, OS unknown (as ISA-L writes)
_ZERO_BLOCK = bytes(BLOCK)
PROBE = 8 << 10
STORE = -1  # a "level": write the block as stored deflate blocks
STORED_MAX = 0xFFFF


class ParallelGzipWriter:
    """A write-only file object producing one gzip member in ``raw`` (left open on close)."""

    def __init__(self, raw: BinaryIO, level: int, threads: int) -> None:
        from isal import isal_zlib  # heavy import kept out of config loading

        self._zlib = isal_zlib
        self._raw = raw
        self._level = level
        self._local = threading.local()
        self._crc = 0
        self._size = 0
        self._zero: tuple[bytes, int] | None = None  # (deflated, crc) of a zero block, made on first use
        raw.write(HEADER)
        self._blocks = BlockWriter(
            raw,
            self._compress,
            block_size=BLOCK,
            threads=threads,
            compress_empty=False,
            chain=WINDOW,
            shortcut=self._take_block,
        )

    @property
    def block_size(self) -> int:
        return BLOCK

    @property
    def on_written(self) -> Callable[[int], None] | None:
        return self._blocks.on_written

    @on_written.setter
    def on_written(self, callback: Callable[[int], None] | None) -> None:
        self._blocks.on_written = callback

    def write(self, data: bytes, /) -> int:
        return self._blocks.write(data)

    def _take_block(self, block: Block) -> Compressed | None:
        """Every block, in order, before compression: the running CRC, and a zero block's deflated form."""
        self._size += len(block)
        if self._level >= 1 and len(block) == BLOCK and block == _ZERO_BLOCK:
            if self._zero is None:
                compressor = self._zlib._ParallelCompress(buffersize=BLOCK, level=1)
                self._zero = (compressor.compress_and_crc(_ZERO_BLOCK, b"")[0], self._zlib.crc32(_ZERO_BLOCK))
            deflated, crc = self._zero
            self._crc = self._zlib.crc32_combine(self._crc, crc, BLOCK)
            return deflated
        self._crc = self._zlib.crc32(block, self._crc)
        return None

    def close(self) -> None:
        """Finish the deflate stream and write the gzip trailer."""
        self._blocks.close()
        self._raw.write(self._zlib.compress(b"", wbits=-15))  # an empty final block
        self._raw.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))

    def abort(self) -> None:
        self._blocks.abort()

    def _choose_level(self, block: Block) -> int:
        if self._level <= 1:
            return self._level
        if block == bytes(len(block)):  # a short zero block (whole ones never get here: see _take_block)
            return 1
        if len(block) >= 8 * PROBE:
            quarter = len(block) // 4
            if all(self._incompressible(block[at : at + PROBE]) for at in range(0, 4 * quarter, quarter)):
                return STORE
        return self._level

    def _incompressible(self, sample: Block) -> bool:
        return len(self._zlib.compress(sample, 1, wbits=-15)) >= len(sample) * 0.97

    def _compress(self, block: Block, previous: bytes) -> Compressed:
        level = self._choose_level(block)
        if level == STORE:
            return store(block)
        compressors: dict[int, object] = self._local.__dict__.setdefault("compressors", {})
        compressor = compressors.get(level)
        if compressor is None:
            size = 2 * BLOCK + 500 if level == 0 else BLOCK + BLOCK // 10
            compressor = compressors[level] = self._zlib._ParallelCompress(buffersize=size, level=level)
        data: bytes = compressor.compress_and_crc(block, previous)[0]  # type: ignore[attr-defined]
        return data


def store(block: Block) -> list[bytes | memoryview]:
    """``block`` as non-final stored deflate blocks (each starts byte-aligned, as sync flushes leave
    it): their headers and slices of ``block``, to be written in order."""
    out: list[bytes | memoryview] = []
    view = memoryview(block)
    for start in range(0, len(block), STORED_MAX):
        piece = view[start : start + STORED_MAX]
        out += (struct.pack("<BHH", 0, len(piece), len(piece) ^ 0xFFFF), piece)
    return out

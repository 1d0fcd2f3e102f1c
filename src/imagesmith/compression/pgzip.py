"""Parallel gzip: one gzip member whose 1 MiB blocks are deflated on all threads by ISA-L.

This is how pigz, Go's pgzip and ISA-L's own ``igzip_threaded`` work: each block is deflated
with the previous block's last 32 KiB as its dictionary and ends on a byte boundary (a sync
flush), so the pieces concatenate into one valid deflate stream. The CRC is computed on the
writing thread, where ISA-L's CRC runs at many GB/s.

Unlike ``igzip_threaded`` the level is chosen per block: an all-zero block (free space in a
disk image) is deflated at ISA-L level 1, which packs zeros about 3.5 times tighter than
level 3 and several times faster; a block none of whose four probes compresses (already
compressed files, encrypted data) is written as stored deflate blocks, the same number of bytes
that ISA-L would produce, at the speed of a memory copy.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from typing import BinaryIO

from imagesmith.compression.blocks import BlockWriter

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
        raw.write(HEADER)
        self._blocks = BlockWriter(
            raw, self._compress, block_size=BLOCK, threads=threads, compress_empty=False, chain=WINDOW
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
        self._crc = self._zlib.crc32(data, self._crc)
        self._size += len(data)
        return self._blocks.write(data)

    def close(self) -> None:
        """Finish the deflate stream and write the gzip trailer."""
        self._blocks.close()
        self._raw.write(self._zlib.compress(b"", wbits=-15))  # an empty final block
        self._raw.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))

    def abort(self) -> None:
        self._blocks.abort()

    def _choose_level(self, block: bytes) -> int:
        if self._level <= 1:
            return self._level
        if block == (_ZERO_BLOCK if len(block) == BLOCK else bytes(len(block))):
            return 1
        if len(block) >= 8 * PROBE:
            quarter = len(block) // 4
            if all(self._incompressible(block[at : at + PROBE]) for at in range(0, 4 * quarter, quarter)):
                return STORE
        return self._level

    def _incompressible(self, sample: bytes) -> bool:
        return len(self._zlib.compress(sample, 1, wbits=-15)) >= len(sample) * 0.97

    def _compress(self, block: bytes, previous: bytes) -> bytes:
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


def store(block: bytes) -> bytes:
    """``block`` as non-final stored deflate blocks (each starts byte-aligned, as sync flushes leave it)."""
    out = bytearray()
    view = memoryview(block)
    for start in range(0, len(block), STORED_MAX):
        piece = view[start : start + STORED_MAX]
        out += struct.pack("<BHH", 0, len(piece), len(piece) ^ 0xFFFF)
        out += piece
    return bytes(out)

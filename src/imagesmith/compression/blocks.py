"""Ordered parallel block compression: the engine behind multi-threaded xz, lz4 and bgzf.

The input is cut into fixed-size blocks; each block is compressed on its own in a thread pool
(the codecs release the GIL while they work) and the results are written in input order by one
writer thread, so reading the input, compressing and writing the output all overlap. This
only suits formats whose decoders accept independently compressed pieces one after another:
concatenated xz streams, concatenated lz4 frames and BGZF blocks all qualify.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

#: A block's compressed form: bytes, or pieces written with one ``writev`` (no joining copy)
Compressed = bytes | Sequence[bytes | memoryview]
#: A block handed to a compressor: bytes, or a bytearray the writer no longer touches
Block = bytes | bytearray
#: ``compress(block, previous)``: ``previous`` is the tail of the block before (see ``chain``), else b""
BlockCompressor = Callable[[Block, bytes], Compressed]
#: ``shortcut(block)``: called for every block in order on the writing thread; its compressed form if
#: the caller has it at once (no trip through the pool), else None
BlockShortcut = Callable[[Block], Compressed | None]


class BlockWriter:
    """A write-only file object that compresses ``block_size`` pieces on ``threads`` threads.

    ``close()`` compresses what is left, writes ``trailer`` and leaves ``raw`` open. When no byte
    was written at all, ``close()`` still emits ``compress(b"")`` if ``compress_empty`` is set
    (an empty xz or lz4 file must still be one valid stream). ``abort()`` drops pending work.
    ``on_written``, when set, is called with each block's uncompressed size once its output is
    written (progress that does not run ahead of the compression threads). With ``chain`` > 0,
    ``compress`` gets the last ``chain`` bytes of the block before as its second argument.
    ``shortcut`` (see :data:`BlockShortcut`) sees every block first, in order.
    """

    def __init__(
        self,
        raw: BinaryIO,
        compress: BlockCompressor,
        *,
        block_size: int,
        threads: int,
        trailer: bytes = b"",
        compress_empty: bool = True,
        chain: int = 0,
        shortcut: BlockShortcut | None = None,
    ) -> None:
        self._raw = raw
        self._compress = compress
        self._shortcut = shortcut
        self._chain = chain
        self._tail = b""
        self._block_size = block_size
        self._trailer = trailer
        self._compress_empty = compress_empty
        self._buffer = bytearray()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="compress")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compress-write")  # FIFO: in order
        # Two blocks in flight per thread keep every core busy without holding much memory.
        self._max_pending = 2 * threads + 1
        self._pending: collections.deque[Future[None]] = collections.deque()
        self.on_written: Callable[[int], None] | None = None
        self._blocks = 0
        self._closed = False

    @property
    def block_size(self) -> int:
        """The size of the pieces compressed independently: the best size for each ``write``."""
        return self._block_size

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data``; hand every full block to the pool. Returns ``len(data)``."""
        if self._closed:
            raise ValueError("write to a closed BlockWriter")
        if not self._buffer and type(data) is bytes and len(data) == self._block_size:
            self._submit(data)  # a reader that reads whole blocks saves the copies
            return len(data)
        view = memoryview(data).cast("B")
        size = len(view)
        start = 0
        if self._buffer:
            take = min(self._block_size - len(self._buffer), size)
            self._buffer += view[:take]
            start = take
            if len(self._buffer) == self._block_size:
                block, self._buffer = self._buffer, bytearray()  # handed over whole: no copy
                self._submit(block)
        while size - start >= self._block_size:
            self._submit(bytes(view[start : start + self._block_size]))
            start += self._block_size
        if start < size:
            self._buffer += view[start:]
        return size

    def _submit(self, block: Block) -> None:
        while self._pending and (len(self._pending) >= self._max_pending or self._pending[0].done()):
            self._pending.popleft().result()
        if self._chain:
            self._tail, previous = bytes(block[-self._chain :]), self._tail
        else:
            previous = b""
        self._blocks += 1
        compressed = None if self._shortcut is None else self._shortcut(block)
        future: Future[Compressed]
        if compressed is None:
            future = self._pool.submit(self._compress, block, previous)
        elif not self._pending:  # ready, and nothing ahead of it: no need for the writer thread
            self._write(block_future(compressed), len(block))
            return
        else:
            future = block_future(compressed)
        self._pending.append(self._writer.submit(self._write, future, len(block)))

    def _write(self, future: Future[Compressed], size: int) -> None:
        """On the writer thread: write one block's output once it is ready (a failed block stops it)."""
        write_all(self._raw, future.result())
        if self.on_written is not None:
            self.on_written(size)

    def flush(self) -> None:
        """Nothing to do: blocks are written as soon as they are ready and in order."""

    def close(self) -> None:
        """Compress the rest, write everything in order, then the trailer."""
        if self._closed:
            return
        try:
            if self._buffer or (self._blocks == 0 and self._compress_empty):
                block, self._buffer = self._buffer, bytearray()
                self._submit(bytes(block))
            while self._pending:
                self._pending.popleft().result()
            self._raw.write(self._trailer)
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop queued blocks and stop the threads (after an error or a cancellation)."""
        self._closed = True
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._writer.shutdown(wait=True, cancel_futures=True)


def block_future(compressed: Compressed) -> Future[Compressed]:
    future: Future[Compressed] = Future()
    future.set_result(compressed)
    return future


def write_all(raw: BinaryIO, data: Compressed) -> None:
    """Write ``data``; pieces go to the file descriptor with ``writev`` when ``raw`` has one."""
    if isinstance(data, bytes):
        raw.write(data)
        return
    try:
        fd = raw.fileno()
    except (AttributeError, OSError):
        raw.write(b"".join(data))
        return
    raw.flush()
    pieces = [memoryview(piece) for piece in data]
    while pieces:
        written = os.writev(fd, pieces[:_IOV_MAX])
        while pieces and written >= len(pieces[0]):
            written -= len(pieces.pop(0))
        if written:
            pieces[0] = pieces[0][written:]
    if raw.seekable():
        raw.seek(0, os.SEEK_END)  # let a buffered ``raw`` learn where the descriptor now is


_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024

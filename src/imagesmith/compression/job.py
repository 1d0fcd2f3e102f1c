"""One compression job, written atomically, and a way to run blocking work off the event loop.

The output is written to a hidden temporary name in the target's directory and renamed into
place only once complete, so an error or a Ctrl-C never leaves a half-written artifact behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from imagesmith.compression.archive import ProgressFn, copy_file, write_tar, write_zip
from imagesmith.compression.blocks import BlockWriter
from imagesmith.compression.codecs import Writer, open_compressor
from imagesmith.compression.pgzip import ParallelGzipWriter

T = TypeVar("T")


@dataclass(frozen=True)
class CompressJob:
    """What to compress where: ``archive`` is "", "tar" or "zip"; ``algorithm`` one of
    :data:`~imagesmith.compression.codecs.ALGORITHMS`; ``level`` Packer's clamped level;
    ``threads`` 0 for every core."""

    files: Sequence[str]
    target: str
    archive: str = ""
    algorithm: str = "pgzip"
    level: int = 6
    threads: int = 0


def temp_name(target: str) -> Path:
    """A hidden, unique name next to ``target`` (same directory, so the final rename is atomic)."""
    path = Path(target)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")


def run_job(job: CompressJob, progress: ProgressFn, cancel: threading.Event) -> None:
    """Compress ``job.files`` into ``job.target``; on any failure nothing is left at either name.

    Blocking: call it from a worker thread. Raises
    :class:`~imagesmith.compression.archive.CompressionCancelled` once ``cancel`` is set.
    """
    if job.archive not in ("", "tar", "zip"):
        raise ValueError(f"unknown archive format {job.archive!r}")
    Path(job.target).parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(job.target)
    try:
        with open(tmp, "wb") as raw:
            if job.archive == "zip":
                write_zip(job.files, raw, max(0, job.level), progress, cancel)
            else:
                _write_compressed(job, raw, progress, cancel)
        os.replace(tmp, job.target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_compressed(job: CompressJob, raw: BinaryIO, progress: ProgressFn, cancel: threading.Event) -> None:
    writer = open_compressor(job.algorithm, raw, job.level, job.threads)
    if isinstance(writer, BlockWriter | ParallelGzipWriter):  # blocks in flight: count input once compressed
        writer.on_written, progress = progress, _ignore
    done = False
    try:
        if job.archive == "tar":
            write_tar(job.files, writer, progress, cancel)
        else:
            copy_file(job.files[0], writer, progress, cancel)
        done = True
    finally:
        if done:
            writer.close()
        else:
            _abandon(writer)


def _ignore(size: int) -> None:
    pass


def _abandon(writer: Writer) -> None:
    """Stop a writer after a failure: drop queued work where it can, else just close it."""
    abort = getattr(writer, "abort", None)
    with contextlib.suppress(Exception):
        if abort is not None:
            abort()
        else:
            writer.close()


async def run_cancellable(work: Callable[[threading.Event], T]) -> T:
    """Run ``work(cancel_event)`` in a thread; if this task is cancelled, set the event, wait
    for the thread to finish its own clean-up, then re-raise the cancellation."""
    cancel = threading.Event()
    future = asyncio.ensure_future(asyncio.to_thread(work, cancel))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancel.set()
        with contextlib.suppress(BaseException):
            await future
        raise

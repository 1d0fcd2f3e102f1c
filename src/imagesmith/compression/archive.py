"""Streaming copies into a compressor: one file, a tar archive, or a zip archive.

Every loop reads big chunks, reports each one to ``progress`` and checks ``cancel`` between
chunks, raising :class:`CompressionCancelled` once it is set.

The archives follow Packer's compress post-processor: tar members are GNU-format, named by the
file's base name, with owner and mode from the file and a zero modification time; zip members
are deflated and named by the path as given (less any leading ``/``, which Packer keeps and
unzip would strip with a warning anyway).
"""

from __future__ import annotations

import os
import tarfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from typing import BinaryIO, Protocol

CHUNK = 4 << 20
ProgressFn = Callable[[int], None]


class CompressionCancelled(Exception):
    """Raised inside a compression thread once its cancel event is set."""


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


def copy_stream(src: BinaryIO, out: Sink, progress: ProgressFn, cancel: threading.Event) -> int:
    """Copy ``src`` to ``out`` in big chunks (``out.block_size`` if it has one); return the bytes copied."""
    size = getattr(out, "block_size", CHUNK)
    total = 0
    while True:
        if cancel.is_set():
            raise CompressionCancelled()
        chunk = src.read(size)
        if not chunk:
            return total
        out.write(chunk)
        total += len(chunk)
        progress(len(chunk))


def copy_file(path: str, out: Sink, progress: ProgressFn, cancel: threading.Event) -> None:
    """Stream one file into ``out``."""
    with open(path, "rb", buffering=0) as src:
        copy_stream(src, out, progress, cancel)


def make_tar_header(path: str) -> tarfile.TarInfo:
    """The GNU tar header Packer writes for ``path`` (base name, zero mtime, owner from stat)."""
    st = os.stat(path)
    info = tarfile.TarInfo(os.path.basename(path))
    info.size = st.st_size
    info.mode = st.st_mode & 0o7777
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname, info.gname = _user_name(st.st_uid), _group_name(st.st_gid)
    info.mtime = 0
    return info


def write_tar(files: Sequence[str], out: Sink, progress: ProgressFn, cancel: threading.Event) -> None:
    """Stream a GNU tar of ``files`` into ``out``, ending with two zero blocks as Go's writer does."""
    for path in files:
        info = make_tar_header(path)
        out.write(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        with open(path, "rb", buffering=0) as src:
            copied = copy_stream(src, out, progress, cancel)
        if copied != info.size:
            raise OSError(f"{path} changed size while being archived ({info.size} -> {copied} bytes)")
        remainder = copied % tarfile.BLOCKSIZE
        if remainder:
            out.write(bytes(tarfile.BLOCKSIZE - remainder))
    out.write(bytes(2 * tarfile.BLOCKSIZE))


def write_zip(files: Sequence[str], raw: BinaryIO, level: int, progress: ProgressFn, cancel: threading.Event) -> None:
    """Write a zip of ``files`` (deflated at zlib ``level``) into ``raw``."""
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for path in files:
            name = path.replace(os.sep, "/").lstrip("/")
            member = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.file_size = os.path.getsize(path)
            big = member.file_size >= zipfile.ZIP64_LIMIT
            with open(path, "rb", buffering=0) as src, archive.open(member, "w", force_zip64=big) as dst:
                copy_stream(src, dst, progress, cancel)


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return ""


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (KeyError, ImportError):
        return ""

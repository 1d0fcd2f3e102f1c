"""Writing a Vagrant box: a tar (gzipped on every core unless the level is 0) of named members.

Packer copies every file (the disk too) into a temporary directory and tars that directory;
here each member is streamed straight from its source, so a multi-gigabyte disk is read once
and never copied. The headers are the ones Packer's copies would get: GNU format, the member's
name relative to the box, mode ``0666 &^ umask``, the current user and group, the time of
writing; members in the order Go's ``filepath.Walk`` visits them (byte order of names).

The box is written under a hidden temporary name next to ``output`` and renamed into place
once complete: an error or a Ctrl-C leaves nothing at either name.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

#: the box's Vagrantfile around the provider's part and the user's template (Packer's layout)
BOX_VAGRANTFILE = """
# The contents below were provided by the Packer Vagrant post-processor
{provider}

# The contents below (if any) are custom contents provided by the
# Packer template during image build.
{custom}
"""

#: Go's flate / pgzip accept -2 (Huffman only) to 9; anything else is Packer's error
LOWEST_LEVEL, HIGHEST_LEVEL = -2, 9
INVALID_LEVEL = "Invalid compression level. Expected an integer from -1 to 9."


@dataclass(frozen=True)
class Member:
    """One file of the box: its name in the box and either a source path or its bytes."""

    name: str
    source: str | None = None
    data: bytes = b""

    def size(self) -> int:
        return os.path.getsize(self.source) if self.source is not None else len(self.data)


def make_vagrantfile(provider_part: str, custom: str) -> str:
    """The box's Vagrantfile, as Packer's ``boxVagrantfileContents`` template makes it."""
    return BOX_VAGRANTFILE.format(provider=provider_part, custom=custom)


def encode_metadata(metadata: Mapping[str, Any]) -> bytes:
    """``metadata.json`` as Go's ``json.Encoder`` writes a map: sorted keys, compact, HTML-safe, newline."""
    text = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        text = text.replace(char, escape)
    return (text.replace("\u2029", "\\u2029") + "\n").encode()


def order_members(members: Mapping[str, Member]) -> list[Member]:
    """Members in ``filepath.Walk`` order: by the bytes of their names."""
    return [members[name] for name in sorted(members, key=lambda n: n.encode("utf-8", "surrogateescape"))]


def current_umask() -> int:
    """The process umask, read without changing it (Linux reports it in /proc/self/status)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def make_header(member: Member, size: int, mtime: int, mode: int) -> tarfile.TarInfo:
    """The GNU tar header of a member written by the current user."""
    info = tarfile.TarInfo(member.name)
    info.size = size
    info.mode = mode
    info.mtime = mtime
    info.uid, info.gid = os.getuid(), os.getgid()
    info.uname, info.gname = _names(info.uid, info.gid)
    return info


def _names(uid: int, gid: int) -> tuple[str, str]:
    """User and group names as Go's tar looks them up ("" when unknown)."""
    import grp
    import pwd

    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = ""
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = ""
    return user, group


def write_box(
    members: list[Member],
    output: str,
    level: int,
    *,
    progress: Callable[[int], None],
    announce: Callable[[str], None],
    cancel: threading.Event,
    threads: int = 0,
) -> None:
    """Write ``members`` as a box at ``output`` (blocking: run it in a worker thread).

    ``level`` 0 writes a plain tar, as Packer does; -2..9 otherwise. ``announce`` gets each
    member's name as it is added; ``progress`` the bytes written. Raises ``ValueError`` with
    Packer's message for a level out of range, ``CompressionCancelled`` once ``cancel`` is set.
    """
    if not LOWEST_LEVEL <= level <= HIGHEST_LEVEL:
        raise ValueError(INVALID_LEVEL)
    from imagesmith.compression.job import temp_name

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(output)
    try:
        if level == 0:  # a plain tar: member data is copied by the kernel (reflinked where it can be)
            with open(tmp, "wb", buffering=0) as plain:
                _write_tar(members, KernelCopyWriter(plain), progress, announce, cancel)
        else:
            with open(tmp, "wb") as raw:
                _write_archive(members, raw, level, threads, progress, announce, cancel)
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_archive(
    members: list[Member],
    raw: BinaryIO,
    level: int,
    threads: int,
    progress: Callable[[int], None],
    announce: Callable[[str], None],
    cancel: threading.Event,
) -> None:
    from imagesmith.compression import open_compressor

    # pgzip's -1 is flate's default (6); -2 (Huffman only) maps to the fastest ISA-L level
    writer = open_compressor("pgzip", raw, 6 if level == -1 else level, threads)
    done = False
    try:
        _write_tar(members, writer, progress, announce, cancel)
        done = True
    finally:
        if done:
            writer.close()
        else:
            with contextlib.suppress(Exception):  # the temporary file goes anyway
                getattr(writer, "abort", writer.close)()


def _write_tar(
    members: list[Member],
    out: Any,
    progress: Callable[[int], None],
    announce: Callable[[str], None],
    cancel: threading.Event,
) -> None:
    from imagesmith.compression.archive import copy_stream

    mtime = int(time.time())
    mode = 0o666 & ~current_umask()
    for member in members:
        announce(member.name)
        size = member.size()
        out.write(make_header(member, size, mtime, mode).tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        if member.source is None:
            out.write(member.data)
            progress(len(member.data))
            copied = size
        else:
            with open(member.source, "rb", buffering=0) as src:
                if isinstance(out, KernelCopyWriter):
                    copied = out.copy_from(src, progress, cancel)
                else:
                    copied = copy_stream(src, out, progress, cancel)
        if copied != size:
            raise OSError(f"{member.source} changed size while being archived ({size} -> {copied} bytes)")
        if size % tarfile.BLOCKSIZE:
            out.write(bytes(tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE))
    out.write(bytes(2 * tarfile.BLOCKSIZE))  # end of archive, as Go's tar.Writer.Close writes it


class KernelCopyWriter:
    """An unbuffered file whose ``copy_from`` has the kernel copy a whole source file
    (``copy_file_range``: no trip through user space, a reflink on filesystems that share blocks)."""

    STEP = 64 << 20  # bytes per system call, so that progress and Ctrl-C stay responsive

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def write(self, data: bytes, /) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self._raw.fileno(), view) :]
        return len(data)

    def copy_from(self, src: BinaryIO, progress: Callable[[int], None], cancel: threading.Event) -> int:
        """Append all of ``src``; return the number of bytes copied."""
        from imagesmith.compression.archive import CompressionCancelled, copy_stream

        total = 0
        try:
            while True:
                if cancel.is_set():
                    raise CompressionCancelled()
                done = os.copy_file_range(src.fileno(), self._raw.fileno(), self.STEP)
                if not done:
                    return total
                total += done
                progress(done)
        except OSError as exc:
            if total or exc.errno not in _NO_KERNEL_COPY:
                raise
            return copy_stream(src, self, progress, cancel)


_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}

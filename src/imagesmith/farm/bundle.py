"""The template directory as a content-addressed bundle: a reproducible tar.gz named by its SHA-256.

The same directory always gives the same bytes (sorted names, zeroed owners and times), so the
same inputs are uploaded once and a worker unpacks each bundle once into its cache.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from imagesmith.errors import ImagesmithError

#: Not inputs: VCS data, download caches, Python caches and virtualenvs.
EXCLUDED = frozenset({".git", ".hg", ".svn", "packer_cache", "__pycache__", ".venv", ".mypy_cache", ".pytest_cache"})
MAX_BYTES = 256 << 20


@dataclass(frozen=True)
class Bundle:
    digest: str  # sha256 hex of ``data``
    data: bytes
    files: int


def make_bundle(directory: Path, limit: int = MAX_BYTES) -> Bundle:
    """Pack ``directory`` (symlinks kept as links); raise ImagesmithError when it exceeds ``limit``."""
    raw = io.BytesIO()
    count = 0
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _walk(directory):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(directory).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.pax_headers = {}
            if info.isfile():
                count += 1
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
            if raw.tell() > limit:
                raise ImagesmithError(
                    f"the template directory {directory} is larger than {limit >> 20} MiB",
                    hint="move large files (ISOs, outputs) out of it; ISOs travel by URL and checksum",
                )
    data = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    return Bundle(hashlib.sha256(data).hexdigest(), data, count)


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED)
        base = Path(root)
        found.extend(base / d for d in dirs)
        found.extend(base / f for f in sorted(files))
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def unpack_bundle(data: bytes, digest: str, cache: Path) -> Path:
    """Unpack into ``cache/<digest>`` once (checked against ``digest``); return that directory."""
    target = cache / digest
    if (target / ".complete").exists():
        return target
    if hashlib.sha256(data).hexdigest() != digest:
        raise ImagesmithError(f"bundle {digest[:12]} arrived damaged (its SHA-256 differs)")
    partial = cache / f".{digest}.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(partial, filter="data")
    (partial / ".complete").touch()
    try:
        partial.rename(target)
    except OSError:  # another process of this worker unpacked it first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def copy_inputs(unpacked: Path, workdir: Path) -> None:
    """A build's private copy of the inputs (a build may write next to its template)."""
    shutil.copytree(unpacked, workdir, symlinks=True, ignore=shutil.ignore_patterns(".complete"))

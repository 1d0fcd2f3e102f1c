"""The ``checksum`` post-processor: write checksum files for every file of the artifact.

Packer 1.6.6 behaviour kept: ``checksum_types`` (default ``["md5"]``; md5, sha1, sha224, sha256,
sha384, sha512), ``output`` (default ``packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum``)
rendered per type. Each checksum file gets one ``<hex digest>\\t<base name>\\n`` line per input
file, appended (an existing file is extended, not replaced). The new artifact lists the input
files, then each checksum file that did not exist before. Defaults keep=true, force=true.

Differences: each file is read once for all types, files are hashed in parallel threads, the
types of one file are hashed in parallel, and nothing is written unless every hash succeeded.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from imagesmith.compression.archive import CompressionCancelled
from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.post_processors.compress import check_output_template
from imagesmith.template.decode import option
from imagesmith.ui import Ui

BUILDER_ID = "packer.post-processor.checksum"
DEFAULT_OUTPUT = "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum"
TYPES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
CHUNK = 8 << 20


@dataclass(frozen=True)
class ChecksumConfig:
    checksum_types: list[str] | None = option(None, doc="hash types; default md5")
    output: str = option("", render=False, doc="checksum file; may use {{.ChecksumType}}")

    def check(self) -> Iterable[str]:
        for name in self.checksum_types or ():
            if name not in TYPES:
                yield f"Unrecognized checksum type: {name}"
        yield from check_output_template(self.output)


class HashFailed(Exception):
    """Reading a file failed while hashing it; ``args`` = (message,)."""


def hash_file(
    path: str,
    types: Sequence[str],
    pool: ThreadPoolExecutor,
    progress: Callable[[int], None],
    cancel: threading.Event,
) -> dict[str, str]:
    """Hex digests of ``path`` for every type, reading it once in big chunks.

    The per-type updates of one chunk run in ``pool`` while the next chunk is read.
    """
    hashers = [hashlib.new(name) for name in types]
    pending: list[Future[None]] = []
    with open(path, "rb", buffering=0) as src:
        while True:
            if cancel.is_set():
                raise CompressionCancelled()
            chunk = src.read(CHUNK)
            for future in pending:
                future.result()
            if not chunk:
                break
            pending = [pool.submit(h.update, chunk) for h in hashers]
            progress(len(chunk))
    return {name: h.hexdigest() for name, h in zip(types, hashers, strict=True)}


def hash_files(
    files: Sequence[str], types: Sequence[str], progress: Callable[[int], None], cancel: threading.Event
) -> list[dict[str, str]]:
    """Digests of every file (in order), files in parallel threads. Raises :class:`HashFailed`."""
    cores = os.cpu_count() or 1
    with (
        ThreadPoolExecutor(max_workers=max(1, min(len(files), cores)), thread_name_prefix="hash-file") as outer,
        ThreadPoolExecutor(max_workers=max(1, cores), thread_name_prefix="hash") as inner,
    ):
        futures = [outer.submit(hash_file, path, types, inner, progress, cancel) for path in files]
        results: list[dict[str, str]] = []
        for path, future in zip(files, futures, strict=True):
            try:
                results.append(future.result())
            except CompressionCancelled:
                raise
            except OSError as exc:
                cancel.set()
                raise HashFailed(f"unable to open file {path}: {exc.strerror or exc}") from exc
        return results


class Checksum(PostProcessor):
    """Write checksum files for the artifact's files."""

    type_name = "checksum"
    config_class = ChecksumConfig
    config: ChecksumConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        from imagesmith.compression import run_cancellable

        files = artifact.files
        types = TYPES[:1] if self.config.checksum_types is None else tuple(self.config.checksum_types)
        targets = [self._render_target(artifact, name) for name in types]
        total = sum(_size(path) for path in files) * (1 if types else 0)
        with ui.progress("Computing checksums", total) as bar:
            try:
                digests = await run_cancellable(lambda cancel: hash_files(files, types, bar.advance, cancel))
            except HashFailed as exc:
                raise BuildError(str(exc)) from exc
        created = write_checksum_files(files, types, targets, digests)
        result = FileArtifact(
            BUILDER_ID,
            [*files, *created],
            artifact_id="",
            description="Created artifact from files: " + ", ".join([*files, *created]),
        )
        return PostProcessResult(result, keep=True, force_override=True)

    def _render_target(self, artifact: Artifact, checksum_type: str) -> str:
        data = {**artifact.generated_data}
        data.update(BuildName=self.info.build_name, BuilderType=self.info.builder_type, ChecksumType=checksum_type)
        return render_runtime(self.config.output or DEFAULT_OUTPUT, self.info, data, error="")


def write_checksum_files(
    files: Sequence[str], types: Sequence[str], targets: Sequence[str], digests: Sequence[dict[str, str]]
) -> list[str]:
    """Append the lines in Packer's order (per type, per file); return the files it created."""
    created: list[str] = []
    for name, target in zip(types, targets, strict=True):
        for path, digest in zip(files, digests, strict=True):
            if not os.path.exists(target):
                created.append(target)
            try:
                os.makedirs(os.path.dirname(target) or ".", mode=0o755, exist_ok=True)
                with open(target, "a", encoding="utf-8") as out:
                    out.write(f"{digest[name]}\t{os.path.basename(path)}\n")
            except OSError as exc:
                raise BuildError(f"unable to create file {target}: {exc.strerror or exc}") from exc
    return created


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0

"""The ``compress`` post-processor: archive and/or compress the artifact's files into one file.

Packer 1.6.6 behaviour kept: ``output`` (default ``packer_{{.BuildName}}_{{.BuilderType}}``) is
rendered at run time with the artifact's generated data plus ``BuildName`` and ``BuilderType``;
the format comes from the last two extensions of the *unrendered* ``output`` (or of
``output + "." + format``): ``.tar``, ``.zip``, ``.gz``, ``.lz4``, ``.bgzf``, ``.xz``,
``.tar.<compression>``; anything else means tar + gzip. ``compression_level`` is clamped to 9
and 0 or -1 mean 6. Without tar or zip exactly one input file is allowed. The result is kept
only if the user asks (defaults keep=false, force=false).

Differences: every format uses all cores (xz too), ``.zst`` selects zstd (Packer would make a
tar.gz under that name), the output appears only once complete (Packer creates it first and
leaves a partial file on errors), and zip member names lose a leading ``/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError, ImagesmithError
from imagesmith.template.decode import option
from imagesmith.ui import Ui

BUILDER_ID = "packer.post-processor.compress"
DEFAULT_OUTPUT = "packer_{{.BuildName}}_{{.BuilderType}}"
_EXTENSION = re.compile(r"\.([a-z0-9]+)")
_ALGORITHMS = {"gz": "pgzip", "lz4": "lz4", "bgzf": "bgzf", "xz": "xz", "zst": "zstd"}
_LOWEST_LEVEL = {"pgzip": -2, "bgzf": -1}  # what Go's pgzip and bgzf writers accept


@dataclass(frozen=True)
class CompressConfig:
    output: str = option("", render=False, doc="output file; its extensions choose the format")
    format: str = option("", doc="extensions to use instead of the output's (e.g. tar.gz)")
    compression_level: int = option(0, doc="1 (fast) to 9 (small); 0 or -1 mean 6")

    def check(self) -> Iterable[str]:
        return check_output_template(self.output)


def detect_format(output: str, fmt: str = "") -> tuple[str, str]:
    """``(archive, algorithm)`` for an output name, as Packer's ``detectFromFilename`` decides.

    ``archive`` is "", "tar" or "zip"; ``algorithm`` "" (none), "pgzip", "zstd", "xz", "lz4" or "bgzf".
    """
    name = f"{output}.{fmt}" if fmt else output
    found = _EXTENSION.findall(name)
    if not found:
        return "tar", "pgzip"
    last = found[-1]
    archive = "tar" if len(found) > 1 and found[-2] == "tar" else ""
    if last in ("tar", "zip"):
        return last, ""
    if last in _ALGORITHMS:
        return archive, _ALGORITHMS[last]
    return "tar", "pgzip"


def effective_level(level: int) -> int:
    """Packer's clamping: above 9 → 9; 0 and -1 (unset) → 6."""
    if level > 9:
        return 9
    if level in (0, -1):
        return 6
    return level


class Compress(PostProcessor):
    """Compress the artifact's files into a single output file using every core."""

    type_name = "compress"
    config_class = CompressConfig
    config: CompressConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        from imagesmith.compression import CompressJob, count_threads, run_cancellable, run_job

        archive, algorithm = detect_format(self.config.output or DEFAULT_OUTPUT, self.config.format)
        level = effective_level(self.config.compression_level)
        target = self._render_target(artifact)
        files = artifact.files
        if level < _LOWEST_LEVEL.get(algorithm, level):
            raise BuildError(
                f"error creating {algorithm} writer: Invalid compression level. Expected an integer from -1 to 9."
            )
        threads = count_threads()
        announce(ui, archive, algorithm, target, files, threads)
        job = CompressJob(files, target, archive, algorithm, level, threads)
        total = sum(_size(path) for path in files)
        with ui.progress(f"Compressing {os.path.basename(target)}", total) as bar:
            try:
                await run_cancellable(lambda cancel: run_job(job, bar.advance, cancel))
            except OSError as exc:
                raise BuildError(f"Failed to compress into {target}: {exc}") from exc
        ui.say(f"Archive {target} completed")
        result = FileArtifact(BUILDER_ID, [target], artifact_id="", description=f"compressed artifacts in: {target}")
        return PostProcessResult(result, keep=False, force_override=False)

    def _render_target(self, artifact: Artifact) -> str:
        data = {**artifact.generated_data, "BuildName": self.info.build_name, "BuilderType": self.info.builder_type}
        target = render_runtime(
            self.config.output or DEFAULT_OUTPUT, self.info, data, error="Error interpolating output value: "
        )
        if not os.path.basename(target) or os.path.isdir(target):  # "/", "out/": Go's os.Create fails so
            raise BuildError(f"Failed to create output file {target}: is a directory")
        return target


def announce(ui: Ui, archive: str, algorithm: str, target: str, files: list[str], threads: int) -> None:
    """Packer's messages before compressing; raises Packer's error for several files without an archive."""
    if algorithm:
        ui.say(f"Using {algorithm} compression with {threads} cores for {target}")
    if archive == "tar":
        ui.say(f"Tarring {target} with {algorithm or 'no compression'}")
    elif archive == "zip":
        ui.say(f"Zipping {target}")
    else:
        if len(files) != 1:
            raise BuildError(
                f"Can only have 1 input file when not using tar/zip. Found {len(files)} files: [{' '.join(files)}]"
            )
        ui.say(f"Archiving {files[0]} with {algorithm or 'no compression'}")


def check_output_template(text: str) -> list[str]:
    """Packer's configure-time ``interpolate.Validate`` of an ``output`` rendered only at run time."""
    if "{{" not in text:
        return []
    from imagesmith.template.engine import parse

    try:
        parse(text)
    except ImagesmithError as exc:
        return [f"Error parsing target template: {exc}"]
    return []


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0

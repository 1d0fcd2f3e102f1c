"""The file provisioner (Packer 1.6.6 ``provisioner/file``): copy files and directories to or from the machine.

Uploads: a directory source goes through ``upload_dir`` (a trailing ``/`` on the source means its
contents); a file goes to ``destination``, or into it when ``destination`` ends in ``/``.
Downloads: a source ending in ``/`` (or holding a glob) is a directory; the local destination's
parent directory is created first. ``generated`` skips the existence check at validate time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.provisioners.shell_common import stat_problem
from imagesmith.template.decode import option
from imagesmith.ui import Ui


@dataclass(frozen=True)
class FileConfig:
    source: str = option("")
    sources: list[str] = option(factory=list)
    destination: str = option("")
    direction: str = option("")
    generated: bool = option(False)

    @property
    def all_sources(self) -> list[str]:
        return [*self.sources, self.source] if self.source else list(self.sources)

    @property
    def effective_direction(self) -> str:
        return self.direction or "upload"

    def check(self) -> Iterator[str]:
        if self.effective_direction not in ("download", "upload"):
            yield "Direction must be one of: download, upload."
        if self.effective_direction == "upload" and not self.generated:
            for src in self.all_sources:
                if problem := stat_problem("source", src):
                    yield problem
        if not self.all_sources:
            yield "Source must be specified."
        if not self.destination:
            yield "Destination must be specified."
        if len(self.all_sources) > 1 and not self.destination.endswith("/"):
            yield "Destination must be a directory when specifying multiple sources"


class FileProvisioner(Provisioner):
    type_name = "file"
    config_class = FileConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the file provisioner needs a communicator; this build has none")
        config: FileConfig = self.config
        for src in config.all_sources:
            if config.effective_direction == "download":
                await download(ui, comm, src, config.destination)
            else:
                await upload(ui, comm, src, config.destination)


async def upload(ui: Ui, comm: Communicator, src: str, dst: str) -> None:
    """Upload one source with Packer's rules."""
    ui.say(f"Uploading {src} => {dst}")
    try:
        if os.path.isdir(src):
            await comm.upload_dir(dst, src)
            return
        target = dst + os.path.basename(src) if dst.endswith("/") else dst
        await comm.upload(target, Path(src))
    except (BuildError, OSError) as exc:
        hint = ""
        if "Error restoring file" in str(exc):
            hint = "; this can occur when your file destination is a folder without a trailing slash."
        ui.error(f"Upload failed: {exc}{hint}")
        raise exc if isinstance(exc, BuildError) else BuildError(str(exc)) from exc


def download_target(src: str, dst: str) -> tuple[str, str]:
    """(local target, directory to create) for downloading ``src`` to ``dst``, as Packer computes them."""
    if not dst.endswith("/"):
        return dst, os.path.dirname(dst)
    if not src.endswith("/") and not src.endswith("*"):
        return os.path.join(dst, os.path.basename(src)), dst
    return dst, dst


async def download(ui: Ui, comm: Communicator, src: str, dst: str) -> None:
    """Download one source with Packer's rules (directories too, which Packer's docker communicator refuses)."""
    ui.say(f"Downloading {src} => {dst}")
    target, directory = download_target(src, dst)
    try:
        if directory:
            os.makedirs(directory, mode=0o755, exist_ok=True)
        if src.endswith("/") or any(c in src for c in "*?["):
            await comm.download_dir(src, Path(target))
            return
        await comm.download(src, Path(target))
    except (BuildError, OSError) as exc:
        ui.error(f"Download failed: {exc}")
        raise exc if isinstance(exc, BuildError) else BuildError(str(exc)) from exc

"""StepCreateFloppy and StepCreateCD: ``floppy_files``/``floppy_dirs`` on a FAT12 image,
``cd_files`` on an ISO (xorriso), both in a temporary directory removed afterwards."""

from __future__ import annotations

import asyncio
import glob
import shutil
import tempfile
from pathlib import Path

from imagesmith.builders.qemu.state import QemuState
from imagesmith.core.steps import Step, fail
from imagesmith.run import run


def _expand(patterns: list[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        for path in matches:
            if not Path(path).exists():
                raise fail(f"Error creating media: {path}: no such file or directory")
            found.append(path)
    return found


class CreateFloppy(Step[QemuState]):
    """A 1.44 MB FAT12 floppy (mkfs.fat + mcopy) holding the listed files and directories."""

    def __init__(self) -> None:
        self.tmp = ""

    @property
    def name(self) -> str:
        return "StepCreateFloppy"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        state.ctx.ui.say("Creating floppy disk...")
        self.tmp = tempfile.mkdtemp(prefix="imagesmith-floppy-")
        image = str(Path(self.tmp) / "floppy.img")
        label = cfg.floppy_label or "packer"
        await run(["mkfs.fat", "-C", "-n", label.upper()[:11], image, "1440"], what="mkfs.fat")
        sources = _expand(cfg.floppy_files) + _expand(cfg.floppy_dirs)
        for src in sources:
            state.ctx.ui.message(f"Copying: {src}")
            await run(["mcopy", "-s", "-i", image, src, "::/"], what="mcopy", env={"MTOOLS_SKIP_CHECK": "1"})
        state.floppy_path = image

    async def cleanup(self, state: QemuState) -> None:
        if self.tmp:
            await asyncio.to_thread(shutil.rmtree, self.tmp, True)


class CreateCd(Step[QemuState]):
    """An ISO 9660 (Joliet, Rock Ridge) image of ``cd_files`` labelled ``cd_label``."""

    def __init__(self) -> None:
        self.tmp = ""

    @property
    def name(self) -> str:
        return "StepCreateCD"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        state.ctx.ui.say("Creating CD disk...")
        self.tmp = tempfile.mkdtemp(prefix="imagesmith-cd-")
        image = str(Path(self.tmp) / "cd.iso")
        argv = ["xorriso", "-as", "mkisofs", "-quiet", "-J", "-R", "-V", cfg.cd_label or "", "-o", image]
        await run([*argv, *_expand(cfg.cd_files)], what="xorriso")
        state.cd_path = image
        state.ctx.ui.message(f"Done copying paths from CD_dirs: {len(cfg.cd_files)}")

    async def cleanup(self, state: QemuState) -> None:
        if self.tmp:
            await asyncio.to_thread(shutil.rmtree, self.tmp, True)

"""Packer 1.6.6's StepCreateFloppy and StepCreateCD for any VM builder whose state has
``floppy_path`` and ``cd_path`` (used by the vmware builders).

The floppy is a 1.44 MB FAT12 image (``mkfs.fat`` + ``mcopy``; Packer writes it with go-fs):
``floppy_files`` are copied flatly to its root (a directory named there contributes every file
under it, flattened, as in Packer), ``floppy_dirs`` keep their tree under their own name. The CD
is an ISO 9660 image made as Packer makes it, with ``xorriso -as genisoimage -rock -joliet
-volid LABEL -output ISO ROOT`` from a staging directory. Both live in a temporary directory
that the step's cleanup removes.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError
from imagesmith.run import run
from imagesmith.ui import Ui

FLOPPY_KB = 1440
MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0"}


class HasMedia(Protocol):
    floppy_path: str
    cd_path: str


S = TypeVar("S", bound=HasMedia)


def expand_globs(patterns: Sequence[str]) -> list[str]:
    """Each pattern with ``*?[`` expanded (sorted, as Go's ``filepath.Glob``; no match is no path),
    other entries kept as given."""
    found: list[str] = []
    for pattern in patterns:
        found += sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
    return found


def check_media(floppy_files: Sequence[str], floppy_dirs: Sequence[str], cd_files: Sequence[str]) -> Iterator[str]:
    """Packer's CDConfig and FloppyConfig prepare-time errors (in its order): every plain path must exist."""
    for paths, what in ((cd_files, "CD disk file"), (floppy_files, "Floppy disk file"),
                        (floppy_dirs, "Floppy disk directory")):  # fmt: skip
        for path in paths:
            if not any(c in path for c in "*?[") and not os.path.exists(path):
                yield f"Bad {what} '{path}': stat {path}: no such file or directory"


def walk_files(directory: str) -> list[str]:
    """Every file under ``directory``, in ``filepath.Walk``'s lexical order."""
    files: list[str] = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        files += [os.path.join(root, n) for n in sorted(names)]
    return sorted(files)


def floppy_format_args(image: str, label: str) -> list[str]:
    """A FAT12 1.44 MB image labelled (and OEM-named, as go-fs does) ``label``."""
    short = label[:11]
    return ["mkfs.fat", "-C", "-F", "12", "-n", short, "-M", "0xF0", image, str(FLOPPY_KB)]


def mcopy_args(image: str, source: str, target: str = "::/") -> list[str]:
    return ["mcopy", "-s", "-o", "-i", image, source, target]


def cd_args(label: str, root: str, iso: str) -> list[str]:
    """Packer's first CD-making command, xorriso's genisoimage emulation."""
    return ["xorriso", "-as", "genisoimage", "-rock", "-joliet", "-volid", label, "-output", iso, root]


class CreateFloppy(Step[S]):
    """``floppy_files`` and ``floppy_dirs`` on a FAT12 floppy image; ``state.floppy_path`` names it."""

    def __init__(self, ui: Ui, files: Sequence[str], dirs: Sequence[str], label: str) -> None:
        self.ui, self.files, self.dirs, self.label = ui, list(files), list(dirs), label or "packer"
        self.tmp = ""

    @property
    def name(self) -> str:
        return "StepCreateFloppy"

    async def run(self, state: S) -> None:
        self.ui.say("Creating floppy disk...")
        self.tmp = tempfile.mkdtemp(prefix="imagesmith-floppy-")
        image = os.path.join(self.tmp, "floppy.vfd")
        await self._tool(floppy_format_args(image, self.label), "mkfs.fat")
        self.ui.message("Copying files flatly from floppy_files")
        for path in expand_globs(self.files):
            if not os.path.exists(path):
                raise fail(f"Error trying to stat : {path} : stat {path}: no such file or directory")
            if os.path.isdir(path):
                self.ui.message(f"Copying directory: {path}")
                for file in walk_files(path):
                    self.ui.message(f"Adding file: {file}")
                    await self._tool(mcopy_args(image, file), "mcopy")
                continue
            self.ui.message(f"Copying file: {path}")
            await self._tool(mcopy_args(image, path), "mcopy")
        self.ui.message("Done copying files from floppy_files")
        self.ui.message("Collecting paths from floppy_dirs")
        queue = expand_globs(self.dirs)
        self.ui.message(f"Resulting paths from floppy_dirs : [{' '.join(queue)}]")
        for path in queue:
            self.ui.message(f"Recursively copying : {path}")
            if not os.path.exists(path):
                raise fail(
                    f"Error adding path {path} to floppy: Error adding path to floppy: "
                    f"stat {path}: no such file or directory"
                )
            await self._tool(mcopy_args(image, path.rstrip("/") or "/"), "mcopy")
        self.ui.message("Done copying paths from floppy_dirs")
        state.floppy_path = image

    async def _tool(self, argv: list[str], what: str) -> None:
        try:
            await run(argv, what=what, env=MTOOLS_ENV)
        except ToolError as exc:
            raise fail(f"Error creating floppy: {exc}") from exc

    async def cleanup(self, state: S) -> None:
        if self.tmp:
            await asyncio.to_thread(shutil.rmtree, self.tmp, True)


class CreateCd(Step[S]):
    """``cd_files`` on an ISO labelled ``cd_label`` (default ``packer``); ``state.cd_path`` names it."""

    def __init__(self, ui: Ui, files: Sequence[str], label: str) -> None:
        self.ui, self.files, self.label = ui, list(files), label or "packer"
        self.tmp = ""

    @property
    def name(self) -> str:
        return "StepCreateCD"

    async def run(self, state: S) -> None:
        self.ui.say("Creating CD disk...")
        if not shutil.which("xorriso"):
            raise fail(
                "could not find a supported CD ISO creation command (the supported commands are: "
                "xorriso, mkisofs, hdiutil, oscdimg); imagesmith uses xorriso"
            )
        self.tmp = tempfile.mkdtemp(prefix="imagesmith-cd-")
        root = os.path.join(self.tmp, "root")
        os.mkdir(root)
        for path in expand_globs(self.files):
            await asyncio.to_thread(stage_cd_path, path, root)
        iso = os.path.join(self.tmp, "cd.iso")
        try:
            await run(cd_args(self.label, root, iso), what="xorriso", on_stderr=self.ui.message)
        except ToolError as exc:
            raise fail(str(exc)) from exc
        self.ui.message("Done copying paths from CD_dirs")
        state.cd_path = iso

    async def cleanup(self, state: S) -> None:
        if self.tmp:
            await asyncio.to_thread(shutil.rmtree, self.tmp, True)


def stage_cd_path(path: str, root: str) -> None:
    """Copy one ``cd_files`` entry into the CD's root: a file to the root, a directory with its
    tree under its own name (Packer's ``AddFile``)."""
    if not os.path.exists(path):
        missing = f"stat {path}: no such file or directory"
        raise fail(f"Error creating temporary file for CD: Error adding path to CD: {missing}")
    if os.path.isdir(path):
        shutil.copytree(path, Path(root) / Path(path.rstrip("/")).name, dirs_exist_ok=True)
    else:
        shutil.copyfile(path, Path(root) / Path(path).name)

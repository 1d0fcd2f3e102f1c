"""The output directory of the VM builders (qemu, virtualbox, vmware): made at the start,
replaced under ``-force``, removed again unless the build succeeded.

Each builder names the step and words the "already exists" error as its Packer counterpart does
(a subclass that sets the class attributes); the behaviour is the same for all.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from imagesmith.core.plugin import BuildContext
from imagesmith.core.steps import Step, fail
from imagesmith.errors import file_errors


class _HasOutputDirectory(Protocol):
    @property
    def output_directory(self) -> str: ...


class OutputDirState(Protocol):
    @property
    def config(self) -> _HasOutputDirectory: ...

    @property
    def ctx(self) -> BuildContext: ...


S = TypeVar("S", bound=OutputDirState)


class PrepareOutputDir(Step[S], Generic[S]):
    step_name = "stepPrepareOutputDir"
    #: the error when the directory exists without ``-force`` (``{out}``: the directory)
    exists_message = "Output directory '{out}' already exists. It must not exist."
    #: said before anything else (vmware says "Configuring output and export directories...")
    announce = ""
    #: vmware prints "Deleting previous output directory..." as a message, the others say it
    delete_as_message = False

    def __init__(self) -> None:
        self.created = False
        self.succeeded = False

    @property
    def name(self) -> str:
        return self.step_name

    async def run(self, state: S) -> None:
        ui = state.ctx.ui
        if self.announce:
            ui.say(self.announce)
        out = Path(state.config.output_directory)
        if out.exists():
            if not state.ctx.info.force:
                raise fail(self.exists_message.format(out=out))
            (ui.message if self.delete_as_message else ui.say)("Deleting previous output directory...")
            with file_errors("delete output_directory", out):
                await asyncio.to_thread(shutil.rmtree, out)
        with file_errors("create output_directory", out):
            out.mkdir(parents=True, exist_ok=True)
        self.created = True

    def mark_succeeded(self) -> None:
        """Called once the artifact is complete (by :class:`KeepOutput`): keep the directory."""
        self.succeeded = True

    async def cleanup(self, state: S) -> None:
        if self.created and not self.succeeded:
            state.ctx.ui.say("Deleting output directory...")
            await asyncio.to_thread(shutil.rmtree, state.config.output_directory, True)


class KeepOutput(Step[S], Generic[S]):
    """Last step: the build succeeded, so the output directory stays."""

    def __init__(self, output: PrepareOutputDir[S]) -> None:
        self.output = output

    async def run(self, state: S) -> None:
        self.output.mark_succeeded()

"""Run all builds of a template on one asyncio loop, then print Packer's summary.

Each build is a task in a :class:`asyncio.TaskGroup`; ``-parallel-builds=N`` is a semaphore
acquired before a build starts (0 = unlimited), ``-debug`` runs builds one at a time. The
first SIGINT/SIGTERM prints ``Cancelling build after receiving <signal>`` and cancels every
build; their step cleanups run (they are shielded), and each build then reports what it
cleaned up. A second signal during cleanup stops waiting: imagesmith names, per build,
whatever it had to leave behind, stops (and waits for) every process it still runs, and exits.
Signal handlers are installed only when ``RunOptions.handle_signals`` asks for them and the run is
on the main thread (the Python API's async variant runs on its caller's loop, whose signals are the
caller's business); cancelling the task that awaits :func:`run_all` cancels every build and waits
for their cleanups.

The group's own outcome is always read: a build's failures are recorded by its runner, so
anything the group raises is a bug, reported as an internal error of every unfinished build.

Exit status: 0 when every build succeeded, 1 otherwise (Packer's).
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from imagesmith.core.build import BuildOutcome, BuildRunner, format_duration
from imagesmith.core.prepared import PreparedBuild
from imagesmith.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, describe_failure
from imagesmith.log import log_loop_exception
from imagesmith.run import stop_all, track_processes, untrack_processes
from imagesmith.ui import BUILD_COLORS, ColoredUi, MachineReadableUi, TargetedUi, Ui

SIGNAL_NAMES = {signal.SIGINT: "interrupt", signal.SIGTERM: "terminated"}


@dataclass(frozen=True)
class RunOptions:
    parallel_builds: int = 0
    debug: bool = False
    color: bool = False
    timestamps: bool = False
    handle_signals: bool = True


@dataclass(frozen=True)
class RunResult:
    """The exit status Packer would give, and each build's outcome in order."""

    code: int
    outcomes: list[BuildOutcome] = field(default_factory=list)
    interrupted: bool = False


class Interrupts:
    """Counts SIGINT/SIGTERM and tells the run what to do about them."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self.count = 0
        self.first = asyncio.Event()
        self.second = asyncio.Event()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in SIGNAL_NAMES:
            loop.add_signal_handler(sig, self.on_signal, sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in SIGNAL_NAMES:
            loop.remove_signal_handler(sig)

    def on_signal(self, sig: signal.Signals) -> None:
        self.count += 1
        if self.count == 1:
            self.ui.error(f"Cancelling build after receiving {SIGNAL_NAMES[sig]}")
            self.first.set()
        else:
            self.ui.error(f"Received {SIGNAL_NAMES[sig]} again: abandoning the remaining cleanup.")
            self.second.set()


async def run_builds(builds: Sequence[PreparedBuild], ui: Ui, opts: RunOptions) -> int:
    """Run ``builds`` (in order, as parallel as allowed), print the summary; return the exit status."""
    return (await run_all(builds, ui, opts)).code


async def run_all(builds: Sequence[PreparedBuild], ui: Ui, opts: RunOptions) -> RunResult:
    """:func:`run_builds`, returning every build's outcome with the exit status."""
    start = time.monotonic()
    runners = make_runners(builds, ui, opts)
    interrupts = Interrupts(ui)
    signals = opts.handle_signals and threading.current_thread() is threading.main_thread()
    if signals:
        interrupts.install()
    if opts.handle_signals:  # the CLI's own loop; an API caller's loop keeps its handler
        asyncio.get_running_loop().set_exception_handler(log_loop_exception)
    processes = track_processes()
    group = asyncio.create_task(_run_group(runners, opts))
    first = asyncio.create_task(interrupts.first.wait())
    try:
        try:
            await asyncio.wait([group, first], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # our caller was cancelled: so are the builds, after their cleanups
            group.cancel()
            await asyncio.wait([group])
            raise
        if not group.done():
            group.cancel()
            second = asyncio.create_task(interrupts.second.wait())
            await asyncio.wait([group, second], return_when=asyncio.FIRST_COMPLETED)
            second.cancel()
        read_group_outcome(group, runners)
        outcomes = [r.outcome for r in runners]
        if interrupts.count:
            code = report_interrupted(outcomes, runners, ui, start, abandoned=not group.done())
            return RunResult(code, outcomes, interrupted=True)
        return RunResult(report_summary(outcomes, ui, start), outcomes)
    finally:
        first.cancel()
        if signals:
            interrupts.uninstall()
        await stop_all()
        untrack_processes(processes)


def read_group_outcome(group: asyncio.Task[None], runners: Sequence[BuildRunner]) -> None:
    """Retrieve the group's result; an exception there fails every build that has no error yet."""
    if not group.done() or group.cancelled():
        return
    exc = group.exception()
    if exc is None:
        return
    message = describe_failure(exc, "the build group")
    for runner in runners:
        outcome = runner.outcome
        if outcome.error is None:
            outcome.error = message
            outcome.artifacts = []


def make_runners(builds: Sequence[PreparedBuild], ui: Ui, opts: RunOptions) -> list[BuildRunner]:
    """One runner per build, each with its colour (and the ``output will be in this color.`` lines)."""
    runners: list[BuildRunner] = []
    colored = opts.color and not isinstance(ui, MachineReadableUi)
    if opts.debug:
        ui.say("Debug mode enabled. Builds will not be parallelized.")
    for i, build in enumerate(builds):
        color = BUILD_COLORS[i % len(BUILD_COLORS)] if colored else ""
        runners.append(BuildRunner(build, ui, color=color, timestamps=opts.timestamps))
        if colored:
            ColoredUi(ui, color).say(f"{build.name}: output will be in this color.")
    if colored and builds:
        ui.say("")
    return runners


async def _run_group(runners: Sequence[BuildRunner], opts: RunOptions) -> None:
    limit = 1 if opts.debug else opts.parallel_builds
    semaphore = asyncio.Semaphore(limit) if limit > 0 else None

    async def one(runner: BuildRunner) -> None:
        try:
            await runner.run()
        finally:
            if semaphore is not None:
                semaphore.release()

    async with asyncio.TaskGroup() as group:
        for runner in runners:
            if semaphore is not None:
                await semaphore.acquire()
            group.create_task(one(runner), name=f"build {runner.build.name}")


def report_summary(outcomes: Sequence[BuildOutcome], ui: Ui, start: float) -> int:
    """Packer's end-of-run output: wait time, errors, artifacts (machine-readable lines too)."""
    return summarize(outcomes, ui, start, lambda o: bool(o.artifacts), report_artifacts)


class Finished(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def error(self) -> str | None: ...


F = TypeVar("F", bound=Finished)


def summarize(
    builds: Sequence[F], ui: Ui, start: float, has_artifacts: Callable[[F], bool], report: Callable[[F, Ui], None]
) -> int:
    """Wait time, every build's error, then each successful build's artifacts (``report``); the
    exit code. Local runs and the farm's client (whose artifacts live elsewhere) share it."""
    ui.say(f"\n==> Wait completed after {format_duration(time.monotonic() - start)}")
    failed = [b for b in builds if b.error is not None]
    if failed:
        ui.machine("error-count", str(len(failed)))
        ui.error("\n==> Some builds didn't complete successfully and had errors:")
        for build in failed:
            ui.machine("error", build.error or "", target=build.name)
            ui.error(f"--> {build.name}: {build.error}")
    done = [b for b in builds if b.error is None and has_artifacts(b)]
    if not done:
        ui.say("\n==> Builds finished but no artifacts were created.")
    else:
        ui.say("\n==> Builds finished. The artifacts of successful builds are:")
        for build in done:
            report(build, ui)
    return EXIT_FAILED if failed else EXIT_OK


def report_artifacts(outcome: BuildOutcome, ui: Ui) -> None:
    """``--> name: <artifact>`` lines and their ``artifact,...`` machine-readable records."""
    name = outcome.name
    ui.machine("artifact-count", str(len(outcome.artifacts)), target=name)
    for i, artifact in enumerate(outcome.artifacts):
        index = str(i)
        ui.machine("artifact", index, "builder-id", artifact.builder_id, target=name)
        ui.machine("artifact", index, "id", artifact.id, target=name)
        ui.machine("artifact", index, "string", str(artifact), target=name)
        files = artifact.files
        ui.machine("artifact", index, "files-count", str(len(files)), target=name)
        for fi, path in enumerate(files):
            ui.machine("artifact", index, "file", str(fi), path, target=name)
        ui.machine("artifact", index, "end", target=name)
        ui.say(f"--> {name}: {artifact}")


def report_interrupted(
    outcomes: Sequence[BuildOutcome], runners: Sequence[BuildRunner], ui: Ui, start: float, *, abandoned: bool
) -> int:
    """After Ctrl-C: what each build cleaned up, what it left behind, then Packer's last line."""
    for runner in runners:
        ledger = runner.outcome.ledger
        build_ui = TargetedUi(runner.color_ui, runner.build.name)
        if ledger.cleaned:
            build_ui.say(f"Cleaned up: {', '.join(ledger.cleaned)}")
        if ledger.pending:
            what = ", ".join(ledger.pending.values())
            build_ui.error(f"Left behind (cleanup {'interrupted' if abandoned else 'skipped'}): {what}")
    ui.say(f"\n==> Wait completed after {format_duration(time.monotonic() - start)}")
    if abandoned:
        ui.say("Cancelled builds; cleanup was interrupted.")
    else:
        ui.say("Cleanly cancelled builds after being interrupted.")
    return EXIT_INTERRUPTED

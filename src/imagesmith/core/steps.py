"""Run a builder's steps: each step's cleanup runs in reverse order, whatever happens.

Packer's ``multistep.BasicRunner`` with ``-on-error`` handling (``commonsteps.NewRunner``):

* ``cleanup`` (default): on failure or cancellation, clean up every step that ran, newest first;
* ``abort``: on failure, skip all cleanups (``aborted: skipping cleanup of step "X"``);
* ``run-cleanup-provisioner``: like abort, but the provisioning step's cleanup (which runs the
  error-cleanup-provisioner) still runs;
* ``ask``: on failure, ask: clean up, abort, or retry the step.

A step is an object with ``name``, ``async run(state)`` and ``async cleanup(state)``. A step
fails by raising; the runner re-raises the first error after cleaning up (a cleanup may replace
it by raising :class:`ReplacingError`, as the error-cleanup-provisioner does). Cancellation
(Ctrl-C) is an ``asyncio.CancelledError`` and always cleans up, as Packer's ``ask`` does. Any
exception halts the build the same way (a bug too); a failing cleanup is reported and the
other cleanups still run.

With ``-debug`` the runner pauses after each step's run and before each cleanup (Packer's
``DebugRunner``), except while cancelling. Every step whose cleanup is still owed is recorded in
the current build's :class:`CleanupLedger` (if one is set), so an interrupted run can say what it
cleaned and what it had to leave behind.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from imagesmith.errors import BuildError, describe_failure
from imagesmith.log import logger
from imagesmith.ui import Ui

S = TypeVar("S")


class ReplacingError(BuildError):
    """Raised by a cleanup to replace the build's error (``Cleanup failed: X. Original ...: Y``)."""


class CleanupLedger:
    """What one build still has to clean up, and what it already cleaned.

    Steps are recorded by :func:`run_steps`; other code may :meth:`track` anything else it
    must undo (a temp file, a running VM) and :meth:`release` it when done.
    """

    def __init__(self, build: str) -> None:
        self.build = build
        self.pending: dict[int, str] = {}
        self.cleaned: list[str] = []
        self._ids = itertools.count()

    def track(self, what: str) -> int:
        """Record that ``what`` must be cleaned up; return a token for :meth:`release`."""
        token = next(self._ids)
        self.pending[token] = what
        return token

    def release(self, token: int, cleaned: bool = True) -> None:
        """``what`` was cleaned up (or, with ``cleaned=False``, deliberately left: -on-error=abort)."""
        what = self.pending.pop(token, None)
        if what is not None and cleaned:
            self.cleaned.append(what)


#: The ledger of the build running in the current task (set by the engine).
current_ledger: contextvars.ContextVar[CleanupLedger | None] = contextvars.ContextVar("current_ledger", default=None)


def _track(step: Step[Any]) -> int | None:
    ledger = current_ledger.get()
    return None if ledger is None else ledger.track(f"step '{step.name}'")


def _release(token: int | None, cleaned: bool = True) -> None:
    ledger = current_ledger.get()
    if ledger is not None and token is not None:
        ledger.release(token, cleaned)


class Step(Generic[S]):
    """One step of a builder. ``name`` is what -debug and abort messages show."""

    #: steps whose cleanup runs even with -on-error=run-cleanup-provisioner
    is_provision_step = False

    @property
    def name(self) -> str:
        return type(self).__name__

    async def run(self, state: S) -> None:
        raise NotImplementedError

    async def cleanup(self, state: S) -> None:
        """Undo what ``run`` did. Must tolerate a ``run`` that failed half-way."""


def when(condition: Any, step: Step[S]) -> Step[S] | None:
    """``step`` if ``condition`` holds, else None (the runner skips None)."""
    return step if condition else None


Pause = Callable[[str], Awaitable[None]]


async def run_steps(
    steps: Sequence[Step[S] | None],
    state: S,
    ui: Ui,
    *,
    on_error: str = "cleanup",
    pause: Pause | None = None,
) -> None:
    """Run ``steps`` in order, then clean up those that ran in reverse order.

    Raises the failing step's error (or CancelledError) after the cleanups.
    """
    ran: list[tuple[Step[S], int | None]] = []
    failure: BaseException | None = None
    aborted = False
    try:
        for step in steps:
            if step is None:
                continue
            while True:
                ran.append((step, _track(step)))
                try:
                    started = time.monotonic()
                    await step.run(state)
                    logger.debug("step %s: ran in %.3fs", step.name, time.monotonic() - started)
                    break
                except Exception as exc:  # any failure halts the build the same way
                    if on_error == "ask":
                        choice = await _ask(ui, step, exc)
                        if choice == "r":
                            await _cleanup_one(*ran.pop(), state, ui)
                            continue
                        if choice == "a":
                            aborted = True
                    elif on_error in ("abort", "run-cleanup-provisioner"):
                        ui.error(f'Step "{step.name}" failed, aborting...')
                        aborted = True
                    raise
            if pause is not None:
                await pause(f"Pausing after run of step '{step.name}'. Press enter to continue.")
    except BaseException as exc:
        failure = exc
    finally:
        cancelled = isinstance(failure, asyncio.CancelledError)
        for step, token in reversed(ran):
            if aborted and not (on_error == "run-cleanup-provisioner" and step.is_provision_step):
                ui.error(f'aborted: skipping cleanup of step "{step.name}"')
                _release(token, cleaned=False)
                continue
            if pause is not None and not cancelled:
                await pause(f"Pausing before cleanup of step '{step.name}'. Press enter to continue.")
            replaced, interrupted = await _cleanup_one(step, token, state, ui)
            if interrupted and not cancelled:
                # Ctrl-C during a cleanup: finish the cleanups, then end the build as cancelled.
                failure, cancelled = asyncio.CancelledError(), True
            if replaced is not None and failure is not None and not cancelled:
                failure = replaced
    if failure is not None:
        raise failure


async def _cleanup_one(step: Step[S], token: int | None, state: S, ui: Ui) -> tuple[ReplacingError | None, bool]:
    """Run one cleanup to its end; the error replacing the build's, and whether we were cancelled meanwhile."""
    # Shield: a Ctrl-C must not abandon a cleanup half-way.
    started = time.monotonic()
    task = asyncio.ensure_future(step.cleanup(state))
    interrupted = False
    try:
        try:
            await asyncio.shield(task)
            logger.debug("step %s: cleaned up in %.3fs", step.name, time.monotonic() - started)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            interrupted = True
            await task
    except ReplacingError as exc:
        _release(token)
        return exc, interrupted
    except Exception as exc:  # one failed cleanup must not skip the others
        ui.error(f"Error cleaning up step '{step.name}': {describe_failure(exc, f'cleanup of step {step.name}')}")
    _release(token)
    return None, interrupted


async def _ask(ui: Ui, step: Step[Any], exc: BaseException) -> str:
    ui.error(f"Step '{step.name}' failed: {exc}")
    question = (
        "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?"
    )
    while True:
        try:
            answer = (await ui.ask(question)).strip().lower()[:1] or "c"
        except (RuntimeError, EOFError):
            return "c"
        if answer in ("c", "a", "r"):
            return answer


def fail(message: str) -> BuildError:
    """The error a step raises to halt the build."""
    return BuildError(message)

"""Run a builder's steps: each step's cleanup runs in reverse order, whatever happens.

Packer's ``multistep.BasicRunner`` with ``-on-error`` handling (``commonsteps.NewRunner``):

* ``cleanup`` (default): on failure or cancellation, clean up every step that ran, newest first;
* ``abort``: on failure, skip all cleanups (``aborted: skipping cleanup of step "X"``);
* ``run-cleanup-provisioner``: like abort, but the provisioning step's cleanup (which runs the
  error-cleanup-provisioner) still runs;
* ``ask``: on failure, ask: clean up, abort, or retry the step.

A step is an object with ``name``, ``async run(state)`` and ``async cleanup(state)``. A step
fails by raising; the runner re-raises the first error after cleaning up. Cancellation
(Ctrl-C) is an ``asyncio.CancelledError`` and always cleans up, as Packer's ``ask`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from imagesmith.errors import BuildError, ImagesmithError
from imagesmith.ui import Ui

S = TypeVar("S")


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
    ran: list[Step[S]] = []
    failure: BaseException | None = None
    aborted = False
    try:
        for step in steps:
            if step is None:
                continue
            while True:
                if pause is not None:
                    await pause(f"Pausing before run of step '{step.name}'. Press enter to continue.")
                ran.append(step)
                try:
                    await step.run(state)
                    break
                except ImagesmithError as exc:
                    if on_error == "ask":
                        choice = await _ask(ui, step, exc)
                        if choice == "r":
                            ran.pop()
                            await _cleanup_one(step, state, ui)
                            continue
                        if choice == "a":
                            aborted = True
                    elif on_error in ("abort", "run-cleanup-provisioner"):
                        ui.error(f'Step "{step.name}" failed, aborting...')
                        aborted = True
                    raise
    except BaseException as exc:
        failure = exc
    finally:
        for step in reversed(ran):
            if aborted and not (on_error == "run-cleanup-provisioner" and step.is_provision_step):
                ui.error(f'aborted: skipping cleanup of step "{step.name}"')
                continue
            if pause is not None and failure is None:
                await pause(f"Pausing before cleanup of step '{step.name}'. Press enter to continue.")
            await _cleanup_one(step, state, ui)
    if failure is not None:
        raise failure


async def _cleanup_one(step: Step[S], state: S, ui: Ui) -> None:
    # Shield: a second Ctrl-C must not abandon a cleanup half-way.
    task = asyncio.ensure_future(step.cleanup(state))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
    except ImagesmithError as exc:
        ui.error(f"Error cleaning up step '{step.name}': {exc}")
    except OSError as exc:
        ui.error(f"Error cleaning up step '{step.name}': {exc}")


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

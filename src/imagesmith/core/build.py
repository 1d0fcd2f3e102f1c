"""Run one prepared build: the builder (with the provision hook), then its post-processor chains.

This is Packer 1.6.6's ``CoreBuild.Run`` plus the per-build part of ``BuildCommand``: the
build's UI is coloured and optionally timestamped, the builder gets a :class:`BuildContext`
whose ``provision`` hook runs the provisioners with their meta-options, and the outcome
(artifacts or error, duration) is recorded in a :class:`BuildOutcome` for the summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from imagesmith.core.chain import run_chains
from imagesmith.core.plugin import Artifact, BuildContext
from imagesmith.core.prepared import PreparedBuild
from imagesmith.core.provision import ProvisionHook
from imagesmith.core.steps import CleanupLedger, current_ledger
from imagesmith.errors import ImagesmithError, describe_failure
from imagesmith.layers.session import make_layer_session
from imagesmith.log import logger
from imagesmith.ui import ColoredUi, TargetedUi, Ui

CANCELLED = "Build was cancelled."


@dataclass
class BuildOutcome:
    """What one build produced. ``artifacts`` is empty when the build errored or made none."""

    name: str
    ledger: CleanupLedger
    started: bool = False
    finished: bool = False
    artifacts: list[Artifact] = field(default_factory=list)
    error: str | None = None
    cancelled: bool = False
    duration: float = 0.0


def format_errors(errors: list[str]) -> str:
    """Packer's ``MultiError`` text (``1 error(s) occurred:`` too, as Packer prints it)."""
    points = "\n".join(f"* {e}" for e in errors)
    return f"{len(errors)} error(s) occurred:\n\n{points}"


def format_duration(seconds: float) -> str:
    """Packer's durations (durafmt, first two units): ``1 minute 3 seconds``, ``5 milliseconds 7 microseconds``."""
    micros = round(seconds * 1_000_000)
    units = (
        ("year", 365 * 86_400_000_000),
        ("week", 7 * 86_400_000_000),
        ("day", 86_400_000_000),
        ("hour", 3_600_000_000),
        ("minute", 60_000_000),
        ("second", 1_000_000),
        ("millisecond", 1_000),
        ("microsecond", 1),
    )
    parts: list[str] = []
    for unit, size in units:
        value, micros = divmod(micros, size)
        if value:
            parts.append(f"{value} {unit}" + ("s" if value > 1 else ""))
    return " ".join(parts[:2]) or "0 microseconds"


class BuildRunner:
    """Runs one :class:`PreparedBuild` and fills its :class:`BuildOutcome`."""

    def __init__(self, build: PreparedBuild, base_ui: Ui, *, color: str = "", timestamps: bool = False) -> None:
        self.build = build
        self.base_ui = base_ui
        self.color = color
        self.color_ui = ColoredUi(base_ui, color, timestamps=timestamps)
        self.ui = TargetedUi(self.color_ui, build.name)
        self.outcome = BuildOutcome(build.name, CleanupLedger(build.name))

    async def run(self) -> BuildOutcome:
        """Run the build; never raises but for cancellation (recorded, then re-raised).

        This is the boundary for a build's failures: whatever the builder or a post-processor
        raises (a tool error, an ``OSError``, a bug) has already run every step's cleanup on
        its way here, and becomes the build's error message.
        """
        outcome = self.outcome
        current_ledger.set(outcome.ledger)
        outcome.started = True
        start = time.monotonic()
        try:
            outcome.artifacts = await self._run()
        except asyncio.CancelledError:
            outcome.cancelled = True
            outcome.error = CANCELLED
            raise
        except Exception as exc:  # the build boundary: every failure becomes a message
            outcome.error = describe_failure(exc, f"build '{outcome.name}'")
        finally:
            outcome.duration = time.monotonic() - start
            outcome.finished = True
            self._report()
        return outcome

    async def _run(self) -> list[Artifact]:
        build = self.build
        layers = make_layer_session(build.info, self.ui)
        hook = ProvisionHook(build, self.ui, debug=build.info.debug, layers=layers)
        ctx = BuildContext(
            ui=self.ui,
            info=build.info,
            provision=hook.provision,
            cleanup_provision=hook.cleanup_provision,
            pause=self._pause if build.info.debug else None,
            provision_layered=hook.provision_layered if layers is not None else None,
            find_layer=hook.find_layer if layers is not None else None,
        )
        logger.info("Running builder: %s", build.builder_type)
        try:
            artifact = await build.builder.run(ctx)
        finally:
            if layers is not None:
                layers.close()
        if artifact is None:
            return []
        result = await run_chains(build.post_processors, artifact, self.ui, self.color_ui, build.name, color=self.color)
        if result.errors:
            raise ImagesmithError(format_errors(result.errors))
        return result.artifacts

    async def _pause(self, message: str) -> None:
        with contextlib.suppress(RuntimeError, EOFError):
            await self.ui.ask(message)

    def _report(self) -> None:
        outcome = self.outcome
        took = format_duration(outcome.duration)
        if outcome.error is None:
            self.color_ui.say(f"Build '{outcome.name}' finished after {took}.")
        else:
            self.color_ui.error(f"Build '{outcome.name}' errored after {took}: {outcome.error}")

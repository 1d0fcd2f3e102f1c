"""Following farm builds from the client: their output, their results, Ctrl-C, lost workers.

The client reads every unfinished build's log stream (blocking at most half a second), prints
each event as a local run would, and once a second looks at the builds' state in Redis: a result
ends a build; a build whose worker stopped renewing its lease for twice the lease's length is
reported as failed (the worker died or lost the broker). The first SIGINT/SIGTERM sets each
unfinished build's persistent cancel flag (a build not yet started is cancelled at once: no
worker will start it); the client then waits for the workers to report their cleanups. A second
signal stops waiting and names the builds still cleaning up.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

from imagesmith.farm.board import Board, RedisError
from imagesmith.farm.report import RemoteBuild, report_interrupted, report_summary
from imagesmith.ui import Ui

SIGNAL_NAMES = {signal.SIGINT: "interrupt", signal.SIGTERM: "terminated"}
WAITING_NOTICE = 10.0  # seconds queued before the client says which capability it waits for
BROKER_PATIENCE = 600.0  # seconds without the broker before the remaining builds are failed


class Follower:
    def __init__(self, board: Board, builds: Sequence[RemoteBuild], ui: Ui) -> None:
        self.board = board
        self.builds = list(builds)
        self.ui = ui
        self.signals_seen = 0
        self.cancel_sent = False
        self.broker_lost_at: float | None = None
        self.start = time.monotonic()

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """Count SIGINT/SIGTERM instead of raising KeyboardInterrupt (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in SIGNAL_NAMES}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals_seen += 1
        name = SIGNAL_NAMES[signal.Signals(signum)]
        if self.signals_seen == 1:
            self.ui.error(f"Cancelling build after receiving {name}")
        elif self.signals_seen == 2:
            self.ui.error(f"Received {name} again: no longer waiting for the workers' cleanup.")

    def unfinished(self) -> list[RemoteBuild]:
        return [b for b in self.builds if b.result is None]

    def run(self) -> int:
        """Follow until every build has a result (or a second signal); print the summary."""
        checked = 0.0
        while self.unfinished() and self.signals_seen < 2:
            try:
                if self.signals_seen and not self.cancel_sent:
                    self._cancel()
                self._read_events()
                if time.monotonic() - checked >= 1.0:
                    checked = time.monotonic()
                    self._check_states()
                self._broker_back()
            except RedisError as exc:
                self._broker_gone(exc)
        if self.signals_seen and not self.cancel_sent:  # two signals in quick succession
            with contextlib.suppress(RedisError):
                self._cancel()
        if self.signals_seen:
            return report_interrupted(self.builds, self.ui, self.start, abandoned=bool(self.unfinished()))
        return report_summary(self.builds, self.ui, self.start)

    def _read_events(self) -> None:
        positions = {b.build_id: b.position for b in self.unfinished()}
        by_id = {b.build_id: b for b in self.builds}
        for build_id, event in self.board.read_logs(positions, block_ms=500):
            build = by_id[build_id]
            build.position = positions[build_id]
            self._show(build, event)

    def _show(self, build: RemoteBuild, event: dict[str, Any]) -> None:
        kind = event.get("t")
        if kind == "ui":
            self.ui.emit(event["kind"], event["text"], build.color)
        elif kind == "machine":
            self.ui.machine(event["kind"], *event["args"], target=event["target"])
        elif kind == "end":
            self._take_result(build)

    def _take_result(self, build: RemoteBuild) -> bool:
        result = self.board.result(build.build_id)
        if result is not None:
            build.result = result
            build.worker = result.get("worker", build.worker)
        return result is not None

    def _check_states(self) -> None:
        now = time.monotonic()
        for build in self.unfinished():
            if self._take_result(build):
                continue
            started = self.board.started(build.build_id)
            if started is not None and not build.worker:
                build.worker, build.lease = started["worker"], float(started["lease"])
            if not build.worker:
                self._check_queued(build, now)
                continue
            if self.board.lease_holder(build.build_id) is not None:
                build.lost_since = None
                continue
            build.lost_since = build.lost_since or now
            if now - build.lost_since > 2 * build.lease and not self._take_result(build):
                waited = round(now - build.lost_since)
                build.result = {
                    "error": f"worker {build.worker} stopped renewing the build's lease {waited}s ago "
                    "(it died or lost the broker); the build's state there is unknown",
                    "artifacts": [],
                }

    def _check_queued(self, build: RemoteBuild, now: float) -> None:
        holder = self.board.lease_holder(build.build_id)
        if holder is not None:  # claimed, not yet marked started: follow it as started
            build.worker, build.lease = holder, 30.0
        elif self.cancel_sent:  # the flag stays: a worker that picks it up later does not start it
            build.result = {"error": "Build was cancelled.", "interrupted": True, "artifacts": []}
        elif now - build.queued_at > WAITING_NOTICE and not build.warned_waiting:
            build.warned_waiting = True
            build.ui.say(f"Waiting for a worker with the '{build.capability}' capability...")

    def _cancel(self) -> None:
        for build in self.unfinished():
            self.board.cancel(build.build_id)
        self.cancel_sent = True
        self._check_states()

    def _broker_gone(self, exc: RedisError) -> None:
        now = time.monotonic()
        if self.broker_lost_at is None:
            self.broker_lost_at = now
            self.ui.error(f"Lost the connection to the farm's broker ({exc}); retrying...")
        elif now - self.broker_lost_at > BROKER_PATIENCE:
            for build in self.unfinished():
                build.result = {"error": f"the farm's broker was unreachable for {round(now - self.broker_lost_at)}s",
                                "artifacts": []}  # fmt: skip
        time.sleep(0.5)

    def _broker_back(self) -> None:
        if self.broker_lost_at is not None:
            self.broker_lost_at = None
            self.ui.say("Reconnected to the farm's broker.")

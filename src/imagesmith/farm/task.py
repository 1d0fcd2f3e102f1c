"""A worker's side of one build: claim it, run it in a child process, stream it, store its artifacts.

Exactly-once, without trusting redelivery: Celery acknowledges a build when it starts (early ack,
so a build outliving the broker's visibility timeout is never handed out again), and a build runs
only under imagesmith's lease (``SET NX`` with expiry, renewed every second or so). A build that
already has a result, or whose lease another worker holds, is skipped: build ids are idempotent.
While the build runs, the worker renews the lease, forwards the child's events to the build's log
stream and checks the persistent cancel flag; once set, it sends SIGINT to the child's process
group, whose SIGINT handling the child restored (:mod:`imagesmith.farm.child`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from imagesmith.errors import ImagesmithError, describe_failure
from imagesmith.farm.board import Board, RedisError
from imagesmith.farm.bundle import copy_inputs, unpack_bundle
from imagesmith.farm.store import put_file, store_key
from imagesmith.log import logger

T = TypeVar("T")
BROKER_PATIENCE = 300.0  # how long a worker keeps retrying a lost broker before giving a build up


@dataclass(frozen=True)
class WorkerConfig:
    """What the ``worker`` command hands its pool processes (through the environment)."""

    broker: str
    name: str
    data_dir: Path
    lease: float

    @property
    def heartbeat(self) -> float:
        return min(1.0, self.lease / 3)

    def to_env(self) -> dict[str, str]:
        return {
            "IMAGESMITH_FARM_BROKER": self.broker,
            "IMAGESMITH_FARM_WORKER": self.name,
            "IMAGESMITH_FARM_DIR": str(self.data_dir),
            "IMAGESMITH_FARM_LEASE": str(self.lease),
        }

    @classmethod
    def from_env(cls) -> WorkerConfig:
        env = os.environ
        return cls(
            env["IMAGESMITH_FARM_BROKER"],
            env["IMAGESMITH_FARM_WORKER"],
            Path(env["IMAGESMITH_FARM_DIR"]),
            float(env["IMAGESMITH_FARM_LEASE"]),
        )


def with_broker(fn: Callable[[], T], patience: float = BROKER_PATIENCE) -> T:
    """Call ``fn``, retrying while the broker is unreachable (a restart), for up to ``patience`` s."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return fn()
        except RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def serve_request(request: dict[str, Any]) -> str:
    """The Celery task's body. Returns what happened (for the worker's log)."""
    cfg = WorkerConfig.from_env()
    board = Board(cfg.broker)
    build_id = request["build_id"]
    try:
        if with_broker(lambda: board.result(build_id)) is not None:
            return "already finished"
        if with_broker(lambda: board.cancelled(build_id)):
            _finish(board, build_id, _cancelled_before_start(cfg))
            return "cancelled before it started"
        if not with_broker(lambda: board.acquire_lease(build_id, cfg.name, cfg.lease)):
            return "already running elsewhere"
        try:
            with_broker(lambda: board.mark_started(build_id, {"worker": cfg.name, "lease": cfg.lease}))
            result = asyncio.run(run_build(board, cfg, request))
        except Exception as exc:  # the worker's boundary: the client gets the failure as the build's error
            result = {"error": describe_failure(exc, "the farm worker"), "interrupted": False, "artifacts": []}
        result["worker"] = cfg.name
        _finish(board, build_id, result)
        with_broker(lambda: board.release_lease(build_id, cfg.name))
        return "built"
    finally:
        board.close()


def _cancelled_before_start(cfg: WorkerConfig) -> dict[str, Any]:
    return {"error": "Build was cancelled.", "interrupted": True, "artifacts": [], "worker": cfg.name}


def _finish(board: Board, build_id: str, result: dict[str, Any]) -> None:
    with_broker(lambda: board.set_result(build_id, result))
    with_broker(lambda: board.publish(build_id, [{"t": "end"}]))


@dataclass
class ChildState:
    """What the child process told us so far."""

    pid: int = 0
    result: dict[str, Any] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    forward: Callable[[], None] = lambda: None  # called after each output event (streams it at once)
    broker_down: bool = False  # then output waits for the heartbeat, which retries

    def on_line(self, line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            logger.debug("farm child wrote a non-event line: %s", line)
            return
        if event.get("t") == "pid":
            self.pid = int(event["pid"])
        elif event.get("t") == "result":
            self.result = event
        elif event.get("t") in ("ui", "machine"):
            self.pending.append(event)
            self.forward()


async def run_build(board: Board, cfg: WorkerConfig, request: dict[str, Any]) -> dict[str, Any]:
    """Unpack the inputs, run the child under the lease, store the artifacts; the result."""
    from imagesmith.run import run

    build_id = request["build_id"]
    workdir = await asyncio.to_thread(_prepare_workdir, board, cfg, request)
    state = ChildState()
    state.forward = lambda: _forward(board, build_id, state)
    argv = [sys.executable, "-m", "imagesmith.farm.child"]
    env = {"IMAGESMITH_FARM_PARENT": str(os.getpid())}
    if not os.environ.get("PACKER_CACHE_DIR"):  # one download cache per worker, not per build directory
        env["PACKER_CACHE_DIR"] = str(cfg.data_dir / "packer_cache")
    spec = json.dumps(request["spec"]).encode()
    child = asyncio.create_task(run(argv, stdin=spec, cwd=str(workdir), env=env, check=False, on_stdout=state.on_line))
    while not child.done():
        await asyncio.wait([child], timeout=cfg.heartbeat)
        _tend(board, cfg, build_id, state)
    completed = child.result()
    with_broker(lambda: _flush(board, build_id, state))
    if state.result is None:
        tail = completed.stderr[-2000:]
        return {"error": f"the build process exited with status {completed.returncode}: {tail}", "artifacts": []}
    result = dict(state.result)
    result.pop("t", None)
    if result["artifacts"] and request.get("store"):
        await asyncio.to_thread(_store_artifacts, result, request["store"], build_id, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        host = socket.gethostname()
        for artifact in result["artifacts"]:
            artifact["locations"] = [f"{host}:{(workdir / f).resolve()}" for f in artifact["files"]]
    return result


def _prepare_workdir(board: Board, cfg: WorkerConfig, request: dict[str, Any]) -> Path:
    digest: str = request["bundle"]
    data = with_broker(lambda: board.get_bundle(digest))
    if data is None:
        raise ImagesmithError(f"the inputs bundle {digest[:12]} is no longer on the broker (it expired)")
    unpacked = unpack_bundle(data, digest, cfg.data_dir / "bundles")
    workdir = cfg.data_dir / "builds" / str(request["build_id"]).replace("/", "_")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.parent.mkdir(parents=True, exist_ok=True)
    copy_inputs(unpacked, workdir)
    return workdir


def _tend(board: Board, cfg: WorkerConfig, build_id: str, state: ChildState) -> None:
    """One heartbeat: forward output, renew the lease, pass a cancellation on. Broker errors wait."""
    try:
        _flush(board, build_id, state)
        if not board.renew_lease(build_id, cfg.name, cfg.lease):
            logger.warning("farm: another worker holds the lease of %s", build_id)
        if not state.interrupted and state.pid and board.cancelled(build_id):
            state.interrupted = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(state.pid, signal.SIGINT)
        state.broker_down = False
    except RedisError as exc:
        state.broker_down = True
        logger.debug("farm: broker unreachable (%s); the build goes on", exc)


def _forward(board: Board, build_id: str, state: ChildState) -> None:
    """Stream output as it comes; while the broker is away it waits for the next heartbeat."""
    if state.broker_down:
        return
    try:
        _flush(board, build_id, state)
    except RedisError:
        state.broker_down = True


def _flush(board: Board, build_id: str, state: ChildState) -> None:
    if state.pending:
        events, state.pending = state.pending, []
        try:
            board.publish(build_id, events)
        except RedisError:
            state.pending[:0] = events
            raise


def _store_artifacts(result: dict[str, Any], store: str, build_id: str, workdir: Path) -> None:
    for artifact in result["artifacts"]:
        locations = []
        for name in artifact["files"]:
            local = Path(name) if Path(name).is_absolute() else workdir / name
            locations.append(put_file(store, build_id, local, store_key(name, workdir)))
        artifact["locations"] = locations

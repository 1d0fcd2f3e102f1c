"""The Celery side: the app, sending a build to a queue, and serving queues as a worker.

The only module that imports Celery. Settings that matter for running each build once:
``task_acks_late=False`` (acknowledged when it starts, so the visibility timeout never hands a
running build out again), ``worker_prefetch_multiplier=1`` (a busy worker does not hoard queued
builds), JSON only (nothing on the broker is ever unpickled).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery  # type: ignore[import-untyped]

from imagesmith.farm.routing import queues_for_worker
from imagesmith.farm.task import WorkerConfig, serve_request

TASK = "imagesmith.farm.run_build"
DEFAULT_VISIBILITY = 3600.0


def make_app(broker: str, visibility_timeout: float = DEFAULT_VISIBILITY) -> Celery:
    app = Celery("imagesmith", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=False,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        task_default_queue="imagesmith.any",
    )
    app.task(name=TASK, ignore_result=True, acks_late=False)(_run_build_task)
    return app


def _run_build_task(request: dict[str, Any]) -> str:
    return serve_request(request)


def send_build(app: Celery, request: dict[str, Any], queue: str) -> None:
    """Queue one build; its Celery task id is the build id (sending it again is harmless)."""
    app.send_task(TASK, args=[request], task_id=request["build_id"], queue=queue, ignore_result=True)


@dataclass(frozen=True)
class WorkerOptions:
    broker: str
    capabilities: list[str]
    concurrency: int
    data_dir: str
    lease: float
    visibility_timeout: float
    name: str = ""
    loglevel: str = "WARNING"


def serve(opts: WorkerOptions) -> None:
    """Run a Celery worker for ``opts`` until it is stopped (SIGTERM: finish running builds first)."""
    name = opts.name or f"imagesmith-{os.getpid()}@{socket.gethostname()}"
    cfg = WorkerConfig(opts.broker, name, Path(opts.data_dir).absolute(), opts.lease)
    os.environ.update(cfg.to_env())
    app = make_app(opts.broker, opts.visibility_timeout)
    argv = [
        "worker",
        f"--queues={','.join(queues_for_worker(opts.capabilities))}",
        f"--concurrency={opts.concurrency}",
        f"--hostname={name}",
        f"--loglevel={opts.loglevel}",
        "--pool=prefork",
        "--prefetch-multiplier=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    app.worker_main(argv)

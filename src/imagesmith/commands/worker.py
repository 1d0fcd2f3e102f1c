"""``imagesmith worker --broker redis://HOST:PORT/N --capabilities docker,qemu --concurrency N``.

Serves farm builds (docs/farm.md) until stopped: SIGTERM lets running builds finish, a second
SIGTERM (or SIGQUIT) stops at once. Needs the ``imagesmith[farm]`` extra (Celery, redis).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from imagesmith.errors import EXIT_OK, ImagesmithError, UsageError


def add_arguments(parser: Any) -> None:
    parser.flag("broker", default="", metavar="URL", help="Redis broker: redis://[:PASSWORD@]HOST:PORT/DB or rediss://")
    parser.flag(
        "capabilities", default="", metavar="LIST", help="What this machine can build: docker,qemu,kvm,cloud,..."
    )
    parser.flag("concurrency", default="1", metavar="N", help="Builds run at once on this worker.")
    parser.flag("name", default="", metavar="NAME", help="Worker name (default imagesmith-PID@HOST).")
    parser.flag("data-dir", default="", metavar="DIR", help="Where bundles and build directories go.")
    parser.flag(
        "lease-seconds", default="30", metavar="S", help="A build's lease; a dead worker's builds fail after it."
    )
    parser.flag("visibility-timeout", default="3600", metavar="S", help="The Redis transport's visibility timeout.")
    parser.flag("loglevel", default="WARNING", metavar="LEVEL", help="Celery's log level.")


def run(options: argparse.Namespace) -> int:
    from imagesmith.farm.board import redis_url
    from imagesmith.farm.routing import parse_capabilities

    if not options.broker:
        raise UsageError("-broker is required", hint="imagesmith worker -broker redis://127.0.0.1:6379/0")
    broker = redis_url(options.broker)
    capabilities = parse_capabilities(options.capabilities)
    concurrency = _number(options.concurrency, "concurrency")
    lease = _number(options.lease_seconds, "lease-seconds")
    visibility = _number(options.visibility_timeout, "visibility-timeout")
    if concurrency < 1 or lease <= 0 or visibility <= 0:
        raise UsageError("-concurrency, -lease-seconds and -visibility-timeout must be positive")
    data_dir = options.data_dir or os.path.join(os.path.expanduser("~"), ".cache", "imagesmith", "farm")
    try:
        from imagesmith.farm.app import WorkerOptions, serve
    except ImportError as exc:
        raise ImagesmithError(f"the farm needs Celery: {exc}", hint="pip install 'imagesmith[farm]'") from None
    serve(
        WorkerOptions(
            broker, capabilities, int(concurrency), data_dir, lease, visibility, options.name, options.loglevel
        )
    )
    return EXIT_OK


def _number(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f'invalid value "{text}" for flag -{flag}: parse error') from None

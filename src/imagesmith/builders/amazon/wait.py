"""Bounded, adaptive waiting: poll quickly at first, then back off.

Packer's waiters poll with fixed delays (15 s for instances and AMIs, 40 attempts), so a build
against an endpoint that answers at once still waits a poll interval per waiter. Here the first
poll is immediate and the delay doubles from 0.1 s up to ``max_delay``; the whole wait is bounded
by ``timeout`` and the error says what was awaited and what was seen last.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from imagesmith.errors import BuildError

FIRST_DELAY = 0.1
MAX_DELAY = 15.0
DEFAULT_TIMEOUT = 30 * 60.0


def wait_limits(polling: Any) -> dict[str, float]:
    """``timeout``/``max_delay`` from ``aws_polling`` or Packer's AWS_POLL_DELAY_SECONDS/AWS_MAX_ATTEMPTS.

    Packer waits ``max_attempts`` polls ``delay_seconds`` apart; imagesmith keeps that total as its
    bound and the delay as its longest pause. Unset: 30 minutes, 15 s.
    """
    delay = (polling.delay_seconds if polling else 0) or int(os.environ.get("AWS_POLL_DELAY_SECONDS") or 0)
    attempts = (polling.max_attempts if polling else 0) or int(os.environ.get("AWS_MAX_ATTEMPTS") or 0)
    limits: dict[str, float] = {}
    if delay:
        limits["max_delay"] = float(delay)
    if delay and attempts:
        limits["timeout"] = float(delay * attempts)
    elif os.environ.get("AWS_TIMEOUT_SECONDS"):
        limits["timeout"] = float(os.environ["AWS_TIMEOUT_SECONDS"])
    return limits


async def wait_until(
    what: str,
    probe: Callable[[], Awaitable[str]],
    done: set[str],
    *,
    failed: frozenset[str] = frozenset(),
    timeout: float = DEFAULT_TIMEOUT,
    max_delay: float = MAX_DELAY,
    limits: dict[str, float] | None = None,
) -> str:
    """Poll ``probe`` (returning a state name) until it is in ``done``; return that state.

    A state in ``failed`` ends the wait at once; so does ``timeout`` seconds without success.
    ``limits`` (from :func:`wait_limits`) overrides ``timeout`` and ``max_delay``.
    """
    timeout = (limits or {}).get("timeout", timeout)
    max_delay = (limits or {}).get("max_delay", max_delay)
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    while True:
        state = await probe()
        if state in done:
            return state
        if state in failed:
            raise BuildError(f"{what}: reached state {state!r} instead of {' or '.join(sorted(done))!r}")
        if time.monotonic() + delay > deadline:
            raise BuildError(f"timed out after {timeout:.0f}s waiting for {what} (last state {state!r})")
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)

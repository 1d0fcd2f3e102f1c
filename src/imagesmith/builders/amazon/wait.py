"""Bounded, adaptive waiting: poll quickly at first, then back off.

Packer's waiters poll with fixed delays (15 s for instances and AMIs, 40 attempts), so a build
against an endpoint that answers at once still waits a poll interval per waiter. Here the first
poll is immediate and the delay doubles from 0.1 s up to ``max_delay``; the whole wait is bounded
by ``timeout`` and the error says what was awaited and what was seen last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from imagesmith.errors import BuildError

FIRST_DELAY = 0.1
MAX_DELAY = 15.0
DEFAULT_TIMEOUT = 30 * 60.0


async def wait_until(
    what: str,
    probe: Callable[[], Awaitable[str]],
    done: set[str],
    *,
    failed: frozenset[str] = frozenset(),
    timeout: float = DEFAULT_TIMEOUT,
    max_delay: float = MAX_DELAY,
) -> str:
    """Poll ``probe`` (returning a state name) until it is in ``done``; return that state.

    A state in ``failed`` ends the wait at once; so does ``timeout`` seconds without success.
    """
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

"""Watching QEMU's vCPU threads, so typing waits for the guest to take each key.

QEMU's PS/2 keyboard queue holds 16 bytes; bytes sent while it is full are dropped. A guest empties
it within microseconds of guest CPU time, but on a loaded host a TCG vCPU thread can go unscheduled
for tens of milliseconds, and a fixed pause then loses keys. So after each key action the typist
waits until every vCPU thread has either run for :data:`PROGRESS_NS` more nanoseconds
(``/proc/<tid>/schedstat``) or is asleep (``S``: the guest is idle, so it has handled the
interrupt). Linux only; when the threads can't be read (QEMU in another PID namespace), typing
falls back to fixed pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from imagesmith.log import logger

if TYPE_CHECKING:
    from imagesmith.bootcommand.qmp import QmpClient

PROGRESS_NS = 1_000_000
POLL = 0.002
CAP = 3.0


class VcpuWatch:
    """Run time and state of a VM's vCPU threads."""

    def __init__(self, tids: list[int]) -> None:
        self.tids = tids
        self.base: list[int] = [0] * len(tids)

    @classmethod
    async def from_qmp(cls, qmp: QmpClient) -> VcpuWatch | None:
        """A watch over the VM's vCPU threads (``query-cpus-fast``), or None if they can't be read."""
        try:
            cpus = await qmp.execute("query-cpus-fast")
            watch = cls([int(c["thread-id"]) for c in cpus])
            watch.mark()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.debug("vcpu watch unavailable: %s", exc)
            return None
        except Exception as exc:  # a QMP error: old QEMU without query-cpus-fast
            logger.debug("vcpu watch unavailable: %s", exc)
            return None
        return watch if watch.tids else None

    def _run_ns(self, tid: int) -> int:
        return int(Path(f"/proc/{tid}/schedstat").read_text().split()[0])

    def _sleeping(self, tid: int) -> bool:
        stat = Path(f"/proc/{tid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].startswith("S")

    def mark(self) -> None:
        """Remember the current run times (call just before sending keys)."""
        self.base = [self._run_ns(t) for t in self.tids]

    def settled(self) -> bool:
        """Every vCPU ran :data:`PROGRESS_NS` since :meth:`mark`, or sleeps."""
        for tid, base in zip(self.tids, self.base, strict=True):
            if self._run_ns(tid) - base < PROGRESS_NS and not self._sleeping(tid):
                return False
        return True

    async def settle(self, minimum: float) -> None:
        """Wait at least ``minimum`` seconds and until :meth:`settled` (at most :data:`CAP` seconds)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(minimum)
        while loop.time() - start < CAP:
            with contextlib.suppress(OSError):
                if self.settled():
                    return
            await asyncio.sleep(POLL)
        logger.debug("vcpu watch: guest made no progress in %.1fs; typing on", CAP)

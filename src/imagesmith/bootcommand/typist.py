"""Type parsed boot commands through a key driver (QMP or VNC), paced.

Pacing:

* VNC (Packer-compatible): sleep ``interval`` after every key event; the interval is 100 ms,
  or ``PACKER_KEY_INTERVAL``, or ``boot_key_interval``, later ones winning.
* QMP: the events of one key action (at most Shift down, key down, key up, Shift up: under 16
  bytes of scancodes, the size of QEMU's PS/2 queue) are sent in one ``input-send-event``, then
  the typist waits 10 ms and until the guest's vCPUs have run (:mod:`imagesmith.bootcommand.vcpu`)
  so the queue is empty before the next action. An explicit ``boot_key_interval`` /
  ``PACKER_KEY_INTERVAL`` switches to Packer's per-event pacing.

The pauses follow a schedule (event *k* is due ``k`` intervals after the first) rather than
sleeping a fixed time after each event, so the timer's overshoot (a fraction of a millisecond
per pause) does not add up over hundreds of events: a long boot command takes its intervals'
worth of time, not more. A pause never drops below half an interval, so a late event (a slow
guest, a busy host) is not followed by a burst to catch up; a ``<wait>`` restarts the schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from imagesmith.bootcommand.grammar import Command, Wait
from imagesmith.bootcommand.keys import KeyEvent, key_events
from imagesmith.bootcommand.qmp import QmpClient
from imagesmith.bootcommand.vcpu import VcpuWatch
from imagesmith.bootcommand.vnc import VncClient
from imagesmith.log import logger
from imagesmith.template.values import parse_go_duration

PACKER_VNC_INTERVAL = 0.1
QMP_ACTION_INTERVAL = 0.01


class KeyDriver(Protocol):
    """Something that delivers key events to the VM."""

    async def send(self, events: Sequence[KeyEvent]) -> None:
        """Deliver ``events`` in order, as one burst."""

    async def settle(self, minimum: float) -> None:
        """Pause after a burst: at least ``minimum`` seconds (longer if the guest hasn't taken it yet)."""


@dataclass(frozen=True)
class Pacing:
    """``event_interval`` > 0: one event at a time, sleeping after each; else bursts per action."""

    event_interval: float = 0.0
    action_interval: float = QMP_ACTION_INTERVAL


def choose_pacing(driver: str, boot_key_interval: float = 0.0, environ: Mapping[str, str] | None = None) -> Pacing:
    """Pacing for ``driver`` ("qmp" or "vnc") from the config and ``PACKER_KEY_INTERVAL``."""
    env = os.environ if environ is None else environ
    explicit = 0.0
    if env.get("PACKER_KEY_INTERVAL"):
        try:
            explicit = float(parse_go_duration(env["PACKER_KEY_INTERVAL"]))
        except ValueError:
            explicit = 0.0
    if boot_key_interval > 0:
        explicit = boot_key_interval
    if explicit > 0:
        return Pacing(event_interval=explicit)
    return Pacing(event_interval=PACKER_VNC_INTERVAL) if driver == "vnc" else Pacing()


async def type_commands(commands: Sequence[Command], driver: KeyDriver, pacing: Pacing) -> None:
    """Type ``commands``. Cancellation (Ctrl-C) stops between events, also inside ``<wait>``."""
    schedule = _Schedule(pacing.event_interval or pacing.action_interval)
    for cmd in commands:
        if isinstance(cmd, Wait):
            logger.debug("boot command: waiting %.3fs", cmd.seconds)
            await asyncio.sleep(max(cmd.seconds, 0.0))
            schedule.restart()
            continue
        events = key_events(cmd)
        bursts = [[event] for event in events] if pacing.event_interval > 0 else [events]
        for burst in bursts:
            await driver.send(burst)
            await driver.settle(schedule.pause())


class _Schedule:
    """Pauses that keep events ``interval`` apart on average (see the module's notes)."""

    def __init__(self, interval: float, clock: Callable[[], float] | None = None) -> None:
        self.interval = interval
        self.clock = clock or asyncio.get_running_loop().time
        self.restart()

    def restart(self) -> None:
        self.due = self.clock()

    def pause(self) -> float:
        """Seconds to wait after an event just sent."""
        now = self.clock()
        self.due = max(self.due + self.interval, now + self.interval / 2)
        return self.due - now


class QmpKeyDriver:
    """Key events through QMP ``input-send-event`` (qcodes), paced by the guest's progress.

    ``watch`` (see :mod:`imagesmith.bootcommand.vcpu`) makes each pause last until the vCPUs have
    run; create the driver with :meth:`open` to get one when QEMU's threads are readable.
    """

    def __init__(self, qmp: QmpClient, watch: VcpuWatch | None = None) -> None:
        self.qmp = qmp
        self.watch = watch

    @classmethod
    async def open(cls, qmp: QmpClient) -> QmpKeyDriver:
        return cls(qmp, await VcpuWatch.from_qmp(qmp))

    async def send(self, events: Sequence[KeyEvent]) -> None:
        payload = [{"type": "key", "data": {"down": e.down, "key": {"type": "qcode", "data": e.qcode}}} for e in events]
        if self.watch is not None:
            with contextlib.suppress(OSError):
                self.watch.mark()
        await self.qmp.execute("input-send-event", {"events": payload})

    async def settle(self, minimum: float) -> None:
        if self.watch is None:
            await asyncio.sleep(minimum)
        else:
            await self.watch.settle(minimum)


class VncKeyDriver:
    """Key events through an RFB session (X11 keysyms); ``watch`` as for :class:`QmpKeyDriver`."""

    def __init__(self, vnc: VncClient, watch: VcpuWatch | None = None) -> None:
        self.vnc = vnc
        self.watch = watch

    async def send(self, events: Sequence[KeyEvent]) -> None:
        if self.watch is not None:
            with contextlib.suppress(OSError):
                self.watch.mark()
        for e in events:
            await self.vnc.key_event(e.keysym, e.down)

    async def settle(self, minimum: float) -> None:
        if self.watch is None:
            await asyncio.sleep(minimum)
        else:
            await self.watch.settle(minimum)

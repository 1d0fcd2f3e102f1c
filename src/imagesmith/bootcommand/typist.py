"""Type parsed boot commands through a key driver (QMP or VNC), paced.

Pacing:

* VNC (Packer-compatible): sleep ``interval`` after every key event; the interval is 100 ms,
  or ``PACKER_KEY_INTERVAL``, or ``boot_key_interval``, later ones winning.
* QMP: the events of one key action (at most Shift down, key down, key up, Shift up: under 16
  bytes of scancodes, the size of QEMU's PS/2 queue) are sent in one ``input-send-event`` and
  followed by a short pause (10 ms) so the guest drains the queue before the next action. An
  explicit ``boot_key_interval`` / ``PACKER_KEY_INTERVAL`` switches to Packer's per-event pacing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from imagesmith.bootcommand.grammar import Command, Wait
from imagesmith.bootcommand.keys import KeyEvent, key_events
from imagesmith.bootcommand.qmp import QmpClient
from imagesmith.bootcommand.vnc import VncClient
from imagesmith.log import logger
from imagesmith.template.values import parse_go_duration

PACKER_VNC_INTERVAL = 0.1
QMP_ACTION_INTERVAL = 0.01


class KeyDriver(Protocol):
    """Something that delivers key events to the VM."""

    async def send(self, events: Sequence[KeyEvent]) -> None:
        """Deliver ``events`` in order, as one burst."""


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
    for cmd in commands:
        if isinstance(cmd, Wait):
            logger.debug("boot command: waiting %.3fs", cmd.seconds)
            await asyncio.sleep(max(cmd.seconds, 0.0))
            continue
        events = key_events(cmd)
        if pacing.event_interval > 0:
            for event in events:
                await driver.send([event])
                await asyncio.sleep(pacing.event_interval)
        else:
            await driver.send(events)
            await asyncio.sleep(pacing.action_interval)


class QmpKeyDriver:
    """Key events through QMP ``input-send-event`` (qcodes)."""

    def __init__(self, qmp: QmpClient) -> None:
        self.qmp = qmp

    async def send(self, events: Sequence[KeyEvent]) -> None:
        payload = [{"type": "key", "data": {"down": e.down, "key": {"type": "qcode", "data": e.qcode}}} for e in events]
        await self.qmp.execute("input-send-event", {"events": payload})


class VncKeyDriver:
    """Key events through an RFB session (X11 keysyms)."""

    def __init__(self, vnc: VncClient) -> None:
        self.vnc = vnc

    async def send(self, events: Sequence[KeyEvent]) -> None:
        for e in events:
            await self.vnc.key_event(e.keysym, e.down)

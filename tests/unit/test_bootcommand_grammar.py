"""boot_command grammar, key tables, checks and pacing (no VM)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from imagesmith.bootcommand import (
    Key,
    KeyEvent,
    Pacing,
    Wait,
    check_boot_command,
    choose_pacing,
    key_events,
    parse_boot_command,
    type_commands,
)
from imagesmith.bootcommand.grammar import SPECIAL_KEYS


def test_literals_and_enter() -> None:
    cmds = parse_boot_command("ab<enter>")
    assert cmds == [Key("a", False, "press", 1), Key("b", False, "press", 2), Key("enter", True, "press", 3)]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("<wait>", 1.0), ("<wait5>", 5.0), ("<wait10>", 10.0), ("<wait1m20s>", 80.0), ("<wait300ms>", 0.3),
     ("<wait1.5s>", 1.5), ("<wait0>", 0.0), ("<wait1h>", 3600.0)],
)  # fmt: skip
def test_waits(text: str, seconds: float) -> None:
    (cmd,) = parse_boot_command(text)
    assert isinstance(cmd, Wait)
    assert cmd.seconds == pytest.approx(seconds)


def test_wait_is_case_sensitive_and_bad_waits_are_literal() -> None:
    assert "".join(c.name for c in parse_boot_command("<WAIT>") if isinstance(c, Key)) == "<WAIT>"
    assert len(parse_boot_command("<wait05>")) == 8  # leading zero: not an Integer, typed literally
    assert len(parse_boot_command("<wait5x>")) == 8


@pytest.mark.parametrize("name", SPECIAL_KEYS)
def test_every_special_key_any_case_with_modifiers(name: str) -> None:
    for text, action in ((f"<{name}>", "press"), (f"<{name.upper()}On>", "on"), (f"<{name}OFF>", "off")):
        (cmd,) = parse_boot_command(text)
        assert cmd == Key(name.lower(), True, action, 1)  # type: ignore[arg-type]
        assert key_events(cmd)  # every special key has a mapping


def test_menu_is_a_key_and_unknown_is_literal() -> None:
    assert parse_boot_command("<menu>") == [Key("menu", True, "press", 1)]
    assert [c.name for c in parse_boot_command("<foo>") if isinstance(c, Key)] == list("<foo>")
    assert [c.name for c in parse_boot_command("<leftfoo>") if isinstance(c, Key)] == list("<leftfoo>")


def test_char_toggle() -> None:
    assert parse_boot_command("<aOn>x<aoff>") == [Key("a", False, "on", 1), Key("x", False, "press", 6),
                                                  Key("a", False, "off", 7)]  # fmt: skip


def test_ctrl_alt_del_sequence_events() -> None:
    cmds = parse_boot_command("<leftCtrlOn><leftAltOn><del><leftAltOff><leftCtrlOff>")
    events = [e for c in cmds if isinstance(c, Key) for e in key_events(c)]
    assert [(e.qcode, e.down) for e in events] == [
        ("ctrl", True), ("alt", True), ("delete", True), ("delete", False), ("alt", False), ("ctrl", False)
    ]  # fmt: skip


def test_shifted_characters_wrap_shift() -> None:
    (cmd,) = parse_boot_command("A")
    assert [(e.qcode, e.down) for e in key_events(cmd)] == [("shift", True), ("a", True), ("a", False),
                                                            ("shift", False)]  # fmt: skip
    (cmd,) = parse_boot_command(":")
    assert key_events(cmd)[1] == KeyEvent("semicolon", ord(":"), True)
    (cmd,) = parse_boot_command("/")
    assert [e.qcode for e in key_events(cmd)] == ["slash", "slash"]


def test_every_printable_ascii_is_typeable() -> None:
    text = "".join(chr(c) for c in range(32, 127))
    assert check_boot_command([text]) == []


def test_check_locates_problems() -> None:
    problems = check_boot_command(["ok<enter>", "caf\u00e9 <wait-1s>"])
    assert problems == [
        "boot_command[1]: column 4: character 'é' cannot be typed on a US keyboard",
        "boot_command[1]: column 6: Expecting a positive wait value. Got -1s",
    ]


def test_pacing_choice() -> None:
    assert choose_pacing("vnc", 0.0, {}) == Pacing(event_interval=0.1)
    assert choose_pacing("vnc", 0.0, {"PACKER_KEY_INTERVAL": "10ms"}) == Pacing(event_interval=0.01)
    assert choose_pacing("vnc", 0.05, {"PACKER_KEY_INTERVAL": "10ms"}) == Pacing(event_interval=0.05)
    assert choose_pacing("qmp", 0.0, {}).event_interval == 0.0
    assert choose_pacing("qmp", 0.02, {}) == Pacing(event_interval=0.02)


class _Recorder:
    def __init__(self) -> None:
        self.bursts: list[list[KeyEvent]] = []
        self.times: list[float] = []

    async def send(self, events: Sequence[KeyEvent]) -> None:
        self.bursts.append(list(events))
        self.times.append(time.monotonic())

    async def settle(self, minimum: float) -> None:
        await asyncio.sleep(minimum)


def test_type_commands_bursts_and_waits() -> None:
    rec = _Recorder()
    start = time.monotonic()
    asyncio.run(type_commands(parse_boot_command("aB<wait200ms>c"), rec, Pacing(action_interval=0.001)))
    assert [len(b) for b in rec.bursts] == [2, 4, 2]
    assert rec.times[2] - rec.times[1] >= 0.2
    assert time.monotonic() - start < 10.0  # no stray long waits (generous: a loaded machine)


def test_type_commands_per_event_pacing() -> None:
    rec = _Recorder()
    asyncio.run(type_commands(parse_boot_command("ab"), rec, Pacing(event_interval=0.02)))
    assert [len(b) for b in rec.bursts] == [1, 1, 1, 1]
    assert rec.times[-1] - rec.times[0] >= 0.06


def test_cancel_inside_wait_is_prompt() -> None:
    async def main() -> float:
        task = asyncio.ensure_future(type_commands(parse_boot_command("<wait1m>"), _Recorder(), Pacing()))
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    assert asyncio.run(main()) < 0.1


def test_pacing_keeps_to_its_schedule() -> None:
    """Pauses absorb the timer's overshoot, so 200 events take 200 intervals, not 200 overshoots
    more; after a stall no pause drops below half an interval (no burst to catch up)."""
    from imagesmith.bootcommand.typist import _Schedule

    clock = [100.0]
    schedule = _Schedule(0.005, clock=lambda: clock[0])
    pauses = []
    for k in range(200):
        clock[0] += 0.0001  # sending takes a little
        pauses.append(schedule.pause())
        clock[0] += pauses[-1] + 0.0007  # the timer wakes late
        if k == 50:
            clock[0] += 0.1  # a stalled guest
    assert min(pauses) >= 0.0025 - 1e-9
    elapsed = clock[0] - 100.0
    assert 0.1 + 199 * 0.005 <= elapsed < 0.1 + 200 * 0.005 + 0.005  # a fixed 5 ms pause after each: + 0.16 s
    schedule.restart()
    assert schedule.pause() == pytest.approx(0.005)

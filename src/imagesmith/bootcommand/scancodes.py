"""PC/XT (set 1) scancodes for a parsed boot command, grouped as Packer's pc-xt driver sends them.

A key press is its make code then its break code (make | 0x80); extended keys carry an ``e0``
prefix on both; a shifted character is ``2a XX aa XX|80`` (Shift released before the key, as
Packer does). Codes are buffered per key and flushed at each ``<wait>`` and at the end, in
groups of at most ``chunk`` codes that never split a key (VirtualBox: one
``keyboardputscancode`` call per group).
"""

from __future__ import annotations

from collections.abc import Sequence

from imagesmith.bootcommand.grammar import Command, Key, Wait

_ROWS = {
    "1234567890-=": 0x02, "!@#$%^&*()_+": 0x02, "qwertyuiop[]": 0x10, "QWERTYUIOP{}": 0x10,
    "asdfghjkl;'`": 0x1E, 'ASDFGHJKL:"~': 0x1E, "\\zxcvbnm,./": 0x2B, "|ZXCVBNM<>?": 0x2B, " ": 0x39,
}  # fmt: skip
CHAR_CODES: dict[str, int] = {char: start + i for row, start in _ROWS.items() for i, char in enumerate(row)}
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?')

# special key -> make code(s); an ``e0`` prefix marks an extended key
SPECIAL_CODES: dict[str, tuple[int, ...]] = {
    "bs": (0x0E,), "del": (0xE0, 0x53), "down": (0xE0, 0x50), "end": (0xE0, 0x4F), "enter": (0x1C,),
    "esc": (0x01,), "home": (0xE0, 0x47), "insert": (0xE0, 0x52), "left": (0xE0, 0x4B), "leftalt": (0x38,),
    "leftctrl": (0x1D,), "leftshift": (0x2A,), "leftsuper": (0xE0, 0x5B), "menu": (0xE0, 0x5D),
    "pagedown": (0xE0, 0x51), "pageup": (0xE0, 0x49), "return": (0x1C,), "right": (0xE0, 0x4D),
    "rightalt": (0xE0, 0x38), "rightctrl": (0xE0, 0x1D), "rightshift": (0x36,), "rightsuper": (0xE0, 0x5C),
    "spacebar": (0x39,), "tab": (0x0F,), "up": (0xE0, 0x48),
    **{f"f{n}": (0x3A + n,) for n in range(1, 11)}, "f11": (0x57,), "f12": (0x58,),
}  # fmt: skip
SHIFT_MAKE, SHIFT_BREAK = 0x2A, 0xAA
CHUNK = 25

Plan = list[list[str] | float]  # a call's codes, or seconds to wait


def _break(make: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(code if code == 0xE0 else code | 0x80 for code in make)


def key_scancodes(key: Key) -> list[int]:
    """The codes of one key action (press, on or off)."""
    if key.special:
        if key.name not in SPECIAL_CODES:
            raise ValueError(f"special key <{key.name}> has no PC/XT scancode")
        make = SPECIAL_CODES[key.name]
        shift = False
    else:
        if key.name not in CHAR_CODES:
            raise ValueError(f"character {key.name!r} has no PC/XT scancode")
        make = (CHAR_CODES[key.name],)
        shift = key.name.isupper() or key.name in SHIFTED
    down = [SHIFT_MAKE, *make] if shift else list(make)
    up = [SHIFT_BREAK, *_break(make)] if shift else list(_break(make))
    if key.action == "on":
        return down
    if key.action == "off":
        return up
    return down + up


def _chunks(keys: Sequence[list[int]], size: int) -> list[list[str]]:
    groups: list[list[str]] = []
    current: list[str] = []
    for codes in keys:
        if current and len(current) + len(codes) > size:
            groups.append(current)
            current = []
        current.extend(f"{code:02x}" for code in codes)
    if current:
        groups.append(current)
    return groups


def plan_scancodes(commands: Sequence[Command], chunk: int = CHUNK) -> Plan:
    """The calls (lists of hex codes) and waits (seconds) that type ``commands``."""
    plan: Plan = []
    pending: list[list[int]] = []
    for command in commands:
        if isinstance(command, Wait):
            plan.extend(_chunks(pending, chunk))
            pending = []
            plan.append(command.seconds)
        else:
            pending.append(key_scancodes(command))
    plan.extend(_chunks(pending, chunk))
    return plan

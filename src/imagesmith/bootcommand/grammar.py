"""Parse a rendered boot command into typing actions (Packer's ``boot_command.pigeon``).

The grammar, tried at every position in this order:

* ``<wait>`` (1 s), ``<waitN>`` (N whole seconds), ``<waitDURATION>`` (a Go duration such as
  ``<wait1m20s>`` or ``<wait300ms>``); the word ``wait`` is case-sensitive;
* ``<cOn>`` / ``<cOff>``: hold or release the single character ``c``;
* ``<special>`` with an optional ``On``/``Off`` suffix, case-insensitive (see :data:`SPECIAL_KEYS`);
* anything else is a literal character, so ``<foo>`` types ``<``, ``f``, ``o``, ``o``, ``>``.

``<menu>``, ``<leftMeta>`` and ``<rightMeta>`` are accepted as in newer Packer releases (1.6.6
documents ``<menu>`` but its grammar typed it literally).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from imagesmith.template.values import parse_go_duration

Action = Literal["press", "on", "off"]

#: Packer's special key names, in the grammar's order of preference (``leftAlt`` before ``left``).
SPECIAL_KEYS = (
    "bs", "del", "enter", "esc", "f10", "f11", "f12", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9",
    "return", "tab", "up", "down", "spacebar", "insert", "home", "end", "pageUp", "pageDown",
    "leftAlt", "leftCtrl", "leftMeta", "leftShift", "rightAlt", "rightCtrl", "rightMeta", "rightShift",
    "leftSuper", "rightSuper", "left", "right", "menu",
)  # fmt: skip

_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
_WAIT = re.compile(rf"<wait((?:{_NUMBER}(?:ns|us|µs|ms|s|m|h))+|0|[1-9][0-9]*)?>")
_TOGGLE = re.compile(r"<(.)(on|off)>", re.IGNORECASE | re.DOTALL)
_SPECIAL = re.compile(
    "<(" + "|".join(re.escape(k) for k in SPECIAL_KEYS) + r")(on|off)?>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Wait:
    """Pause typing for ``seconds``."""

    seconds: float
    column: int = 0


@dataclass(frozen=True)
class Key:
    """Press (or hold/release) one key: a special key name (lower-case) or a literal character."""

    name: str
    special: bool
    action: Action = "press"
    column: int = 0


Command = Wait | Key


class BootCommandError(ValueError):
    """A boot command that can't be typed; ``column`` is 1-based within the flattened command."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


def parse_boot_command(text: str) -> list[Command]:
    """Parse ``text`` (already rendered) into actions. Never fails: unknown ``<...>`` is literal."""
    out: list[Command] = []
    pos = 0
    while pos < len(text):
        col = pos + 1
        if text[pos] == "<":
            m = _WAIT.match(text, pos)
            if m:
                out.append(Wait(_wait_seconds(m.group(1)), col))
                pos = m.end()
                continue
            m = _TOGGLE.match(text, pos)
            if m:
                out.append(Key(m.group(1), False, _action(m.group(2)), col))
                pos = m.end()
                continue
            m = _SPECIAL.match(text, pos)
            if m:
                out.append(Key(m.group(1).lower(), True, _action(m.group(2)), col))
                pos = m.end()
                continue
        out.append(Key(text[pos], False, "press", col))
        pos += 1
    return out


def _action(suffix: str | None) -> Action:
    if not suffix:
        return "press"
    return "on" if suffix.lower() == "on" else "off"


def _wait_seconds(arg: str | None) -> float:
    if arg is None:
        return 1.0
    if arg.isdigit():
        return float(int(arg))
    return float(parse_go_duration(arg))

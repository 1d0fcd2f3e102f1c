"""boot_command: parse, check and type Packer's boot command language.

Entry points: :func:`check_boot_command` (prepare time, located problems),
:func:`parse_boot_command` and :func:`type_commands` with a QMP or VNC driver. The step renders
the command first with :func:`imagesmith.core.render.render_runtime`.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagesmith.bootcommand.grammar import BootCommandError, Command, Key, Wait, parse_boot_command
from imagesmith.bootcommand.keys import KeyEvent, check_typeable, key_events
from imagesmith.bootcommand.typist import Pacing, QmpKeyDriver, VncKeyDriver, choose_pacing, type_commands

__all__ = [
    "BootCommandError",
    "Command",
    "Key",
    "KeyEvent",
    "Pacing",
    "QmpKeyDriver",
    "VncKeyDriver",
    "Wait",
    "check_boot_command",
    "choose_pacing",
    "key_events",
    "parse_boot_command",
    "type_commands",
]


def check_boot_command(lines: Sequence[str], path: str = "boot_command") -> list[str]:
    """Every problem in the (unrendered) boot command, each naming the line and column."""
    problems: list[str] = []
    for index, line in enumerate(lines):
        for column, message in check_typeable(parse_boot_command(line)):
            problems.append(f"{path}[{index}]: column {column}: {message}")
    return problems

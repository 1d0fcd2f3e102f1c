"""boot_command: parse, check, render and type Packer's boot command language.

Entry points: :func:`check_boot_command` (prepare time, located problems),
:func:`render_boot_command` (run time, with ``HTTPIP``/``HTTPPort``/``Name``),
:func:`parse_boot_command` and :func:`type_commands` with a QMP or VNC driver.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from imagesmith.bootcommand.grammar import BootCommandError, Command, Key, Wait, parse_boot_command
from imagesmith.bootcommand.keys import KeyEvent, check_typeable, key_events
from imagesmith.bootcommand.typist import Pacing, QmpKeyDriver, VncKeyDriver, choose_pacing, type_commands
from imagesmith.template.context import RenderContext

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
    "render_boot_command",
    "type_commands",
]


def check_boot_command(lines: Sequence[str], path: str = "boot_command") -> list[str]:
    """Every problem in the (unrendered) boot command, each naming the line and column."""
    problems: list[str] = []
    for index, line in enumerate(lines):
        for column, message in check_typeable(parse_boot_command(line)):
            problems.append(f"{path}[{index}]: column {column}: {message}")
    return problems


def render_boot_command(lines: Sequence[str], data: Mapping[str, str], ctx: RenderContext | None = None) -> str:
    """Concatenate ``lines`` (Packer's FlatBootCommand) and render them with ``data``.

    ``ctx`` supplies the rest (user variables, build name, template path); its ``data`` is replaced.
    Raises :class:`~imagesmith.errors.RenderError` on a bad expression.
    """
    flat = "".join(lines)
    if "{{" not in flat:
        return flat
    from imagesmith.template.engine import render

    base = ctx or RenderContext()
    return render(flat, dataclasses.replace(base, data=dict(data)))

"""What every VM builder's boot-command step does before typing: wait ``boot_wait``, then render
``boot_command`` as Packer's FlatBootCommand does (the lines joined, rendered as one text)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from imagesmith.core.plugin import BuildInfo
from imagesmith.core.render import render_runtime
from imagesmith.core.steps import fail
from imagesmith.errors import RenderError
from imagesmith.template.values import format_go_duration
from imagesmith.ui import Ui


async def wait_for_boot(ui: Ui, boot_wait: float) -> None:
    if boot_wait > 0:
        ui.say(f"Waiting {format_go_duration(boot_wait)} for boot...")
        await asyncio.sleep(boot_wait)


def render_boot_command(lines: Sequence[str], info: BuildInfo, data: Any) -> str:
    try:
        return render_runtime("".join(lines), info, data)
    except RenderError as exc:
        raise fail(f"Error preparing boot command: {exc}") from exc

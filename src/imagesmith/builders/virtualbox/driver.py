"""The only code that runs VBoxManage (Packer 1.6.6's ``VBox42Driver``).

A call fails when VBoxManage exits non-zero, or exits 0 but writes ``VBoxManage...: error:`` to
stderr (it sometimes does); the error names the command and carries its stderr. A failure
mentioning ``VBOX_E_INVALID_OBJECT_STATE`` (the machine is locked by a session that is still
closing) is retried, as Packer does: 5 tries, ``retry_delay`` apart (Packer: one minute).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Sequence

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.snapshots import NO_SNAPSHOTS, Snapshot, parse_snapshots
from imagesmith.errors import BuildError, ToolError
from imagesmith.log import logger
from imagesmith.run import run

ERROR_PATTERN = re.compile(r"VBoxManage([.a-z]+?): error:")
BUSY = "VBOX_E_INVALID_OBJECT_STATE"
VERSION_PATTERN = re.compile(r"^([.0-9]+)(?:_(?:RC|OSEr)[0-9]+)?")
GA_ISO_PATTERN = re.compile(r"Default Guest Additions ISO:(.+)")
RUNNING_STATES = ('VMState="running"', 'VMState="stopping"', 'VMState="paused"')
TRIES = 5


def find_vboxmanage() -> str:
    """``VBoxManage`` on PATH (or under ``VBOX_INSTALL_PATH``), as Packer looks for it."""
    for folder in os.environ.get("VBOX_INSTALL_PATH", "").split(os.pathsep):
        if folder and os.access(os.path.join(folder, "VBoxManage"), os.X_OK):
            return os.path.join(folder, "VBoxManage")
    found = shutil.which("VBoxManage")
    if found is None:
        raise BuildError('Failed creating VirtualBox driver: exec: "VBoxManage": executable file not found in $PATH')
    return found


def is_failure(returncode: int, stderr: str) -> bool:
    """Packer's rule: a non-zero exit, or an error line on stderr despite exit 0."""
    return returncode != 0 or ERROR_PATTERN.search(stderr.strip()) is not None


def parse_version(output: str) -> str:
    text = output.strip()
    if "vboxdrv" in text:
        raise BuildError(f"VirtualBox is not properly setup: {text}")
    match = VERSION_PATTERN.match(text)
    if match is None or not match.group(1):
        raise BuildError(f"No version found: {text}")
    return match.group(1)


def parse_guest_additions_iso(output: str) -> str:
    for line in output.split("\n"):
        match = GA_ISO_PATTERN.search(line.rstrip(" \r"))
        if match and match.group(1).strip():
            return match.group(1).strip()
    return ""


def parse_running(output: str) -> bool:
    return any(line.rstrip("\r") in RUNNING_STATES for line in output.split("\n"))


class Driver:
    """Runs VBoxManage. ``retry_delay``: seconds between tries of a call the VM's lock refused."""

    def __init__(self, path: str = "VBoxManage", retry_delay: float = 60.0) -> None:
        self.path = path
        self.retry_delay = retry_delay

    async def vboxmanage(self, args: Sequence[str]) -> str:
        """Run ``VBoxManage args``; return stdout (stripped), raise ToolError on failure."""
        for attempt in range(1, TRIES + 1):
            done = await run([self.path, *args], check=False, what="VBoxManage")
            if not is_failure(done.returncode, done.stderr):
                return done.text.strip()
            error = ToolError([self.path, *args], done.returncode, done.stderr.strip(), "VBoxManage")
            if BUSY not in done.stderr or attempt == TRIES:
                raise error
            logger.debug("VBoxManage: machine busy (try %d of %d), retrying in %ss", attempt, TRIES, self.retry_delay)
            await asyncio.sleep(self.retry_delay)
        raise AssertionError("unreachable")

    async def version(self) -> str:
        done = await run([self.path, "--version"], what="VBoxManage")
        return parse_version(done.text)

    async def guest_additions_iso(self) -> str:
        """The host's guest additions ISO (``list systemproperties``), "" when VirtualBox names none."""
        done = await run([self.path, "list", "systemproperties"], what="VBoxManage")
        return parse_guest_additions_iso(done.text)

    async def is_running(self, vm: str) -> bool:
        done = await run([self.path, *commands.make_showvminfo_command(vm)], what="VBoxManage")
        return parse_running(done.text)

    async def load_snapshots(self, vm: str) -> Snapshot | None:
        """The VM's snapshot tree (None: no snapshot; VirtualBox then exits 1 with a message on stdout)."""
        done = await run([self.path, *commands.make_snapshot_list_command(vm)], check=False, what="VBoxManage")
        if done.text.strip() == NO_SNAPSHOTS:
            return None
        if is_failure(done.returncode, done.stderr):
            raise ToolError([self.path, *commands.make_snapshot_list_command(vm)], done.returncode,
                            done.stderr.strip(), "VBoxManage")  # fmt: skip
        return parse_snapshots(done.text)

    async def stop(self, vm: str) -> None:
        """Power off, then give VirtualBox up to 2 s to release the session (Packer sleeps 2 s)."""
        await self.vboxmanage(commands.make_poweroff_command(vm))
        for _ in range(8):
            if not await self.is_running(vm):
                return
            await asyncio.sleep(0.25)

    async def delete(self, vm: str) -> None:
        """``unregistervm --delete``, 5 tries a second apart (Packer's Delete)."""
        for attempt in range(1, TRIES + 1):
            try:
                await self.vboxmanage(commands.make_delete_command(vm))
                return
            except ToolError:
                if attempt == TRIES:
                    raise
                await asyncio.sleep(1)

"""The windows-restart provisioner (Packer 1.6.6 ``provisioner/windows-restart``): reboot and wait.

1. ``restart_command`` (default ``shutdown /r /f /t 0 /c "packer restart"``) runs, retried until
   ``restart_timeout`` while it cannot start; exit codes 0, 1115 and 1190 are accepted.
2. The check loop: ``shutdown /r /f /t 60 /c "packer restart test"`` runs until the machine is seen
   going down: a command that cannot start or exit status 1 ends it; 0 means no restart is pending,
   so the test restart is aborted with ``shutdown /a`` and the loop ends; 1115/1190/1717 (a shutdown
   is in progress) wait 10 s; anything else (a dropped session) tries again at once.
3. Every 5 s: the custom ``restart_check_command`` until it starts, then the built-in
   ``powershell.exe -EncodedCommand`` echo until its output says ``restarted.``; with
   ``check_registry``, each of ``registry_keys`` is tested and any that exists means wait on.

All of 2 and 3 must end within ``restart_timeout`` ("Timeout waiting for machine to restart.").
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.log import logger
from imagesmith.provisioners.shell_common import retry
from imagesmith.provisioners.windows_common import encoded_powershell
from imagesmith.template.decode import option
from imagesmith.template.values import Duration
from imagesmith.ui import Ui

RESTART_COMMAND = 'shutdown /r /f /t 0 /c "packer restart"'
RESTART_CHECK_COMMAND = encoded_powershell('echo ("{0} restarted." -f [System.Net.Dns]::GetHostName())')
TRY_CHECK_REBOOT = 'shutdown /r /f /t 60 /c "packer restart test"'
ABORT_REBOOT = "shutdown /a"
REGISTRY_KEYS = [
    "HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
    "HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending",
    "HKLM:Software\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootInProgress",
]
ACCEPTED = (0, 1115, 1190)
IN_PROGRESS = (1115, 1190, 1717)
CHECK_INTERVAL = 5.0
IN_PROGRESS_WAIT = 10.0


@dataclass(frozen=True)
class WindowsRestartConfig:
    restart_command: str = option("")
    restart_check_command: str = option("")
    restart_timeout: Duration = option(Duration(0))
    check_registry: bool = option(False)
    registry_keys: list[str] = option(factory=list)


class WindowsRestartProvisioner(Provisioner):
    type_name = "windows-restart"
    config_class = WindowsRestartConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        if comm is None:
            raise BuildError("the windows-restart provisioner needs a communicator; this build has none")
        c: WindowsRestartConfig = self.config
        timeout = float(c.restart_timeout) or 300.0
        ui.say("Restarting Machine")
        command = c.restart_command or RESTART_COMMAND
        status = await retry(timeout, lambda: comm.execute(command, stdout=ui.message, stderr=ui.error))
        if status not in ACCEPTED:
            raise BuildError(f"Restart script exited with non-zero exit status: {status}")
        ui.say("Waiting for machine to restart...")
        try:
            async with asyncio.timeout(timeout):
                await self._wait_going_down(ui, comm)
                await self._wait_back(ui, comm)
        except TimeoutError:
            ui.error("Timeout waiting for machine to restart.")
            raise BuildError("Timeout waiting for machine to restart.") from None
        ui.say("Machine successfully restarted, moving on")

    async def _wait_going_down(self, ui: Ui, comm: Communicator) -> None:
        while True:
            logger.debug("Check if machine is rebooting...")
            try:
                status = await comm.execute(TRY_CHECK_REBOOT, stdout=ui.message, stderr=ui.error)
            except BuildError:
                return
            if status == 1:
                return
            if status in IN_PROGRESS:
                logger.debug("Reboot already in progress, waiting...")
                await asyncio.sleep(IN_PROGRESS_WAIT)
            if status == 0:
                await _run_quietly(ui, comm, ABORT_REBOOT)
                return

    async def _wait_back(self, ui: Ui, comm: Communicator) -> None:
        c: WindowsRestartConfig = self.config
        custom = c.restart_check_command if c.restart_check_command not in ("", RESTART_CHECK_COMMAND) else ""
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            if custom:
                try:
                    await comm.execute(custom, stdout=ui.message, stderr=ui.error)
                except BuildError as exc:
                    logger.debug("Communication connection err: %s", exc)
                    continue
                custom = ""
            if "restarted." not in (await _output(ui, comm, RESTART_CHECK_COMMAND) or ""):
                logger.debug("echo didn't succeed; retrying...")
                continue
            if c.check_registry and await self._reboot_pending(ui, comm):
                continue
            return

    async def _reboot_pending(self, ui: Ui, comm: Communicator) -> bool:
        pending = False
        for key in self.config.registry_keys or REGISTRY_KEYS:
            output = await _output(ui, comm, encoded_powershell(f'Test-Path "{key}"'))
            if output is None or "True" in output:
                pending = True
        return pending


async def _output(ui: Ui, comm: Communicator, command: str) -> str | None:
    """Run ``command`` showing its output; its stdout (None when it could not start)."""
    lines: list[str] = []

    def keep(line: str) -> None:
        ui.message(line)
        lines.append(line)

    try:
        await comm.execute(command, stdout=keep, stderr=ui.error)
    except BuildError as exc:
        logger.debug("Communication connection err: %s", exc)
        return None
    return "\n".join(lines)


async def _run_quietly(ui: Ui, comm: Communicator, command: str) -> None:
    try:
        await comm.execute(command, stdout=ui.message, stderr=ui.error)
    except BuildError as exc:
        logger.debug("%s: %s", command, exc)

"""stepRun (+ stepConfigureQMP): start QEMU, connect to its QMP socket; cleanup stops it.

QMP is always on (in a private temp directory, or at ``qmp_socket_path`` with ``qmp_enable``):
it types the boot command and asks QEMU to quit cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from imagesmith.bootcommand.qmp import QmpClient, QmpError
from imagesmith.builders.qemu.driver import RunInputs, apply_qemuargs, make_default_args
from imagesmith.builders.qemu.state import QemuState
from imagesmith.core.render import go_struct, render_all
from imagesmith.core.steps import Step, fail
from imagesmith.errors import RenderError, file_errors


def render_qemuargs(state: QemuState) -> list[list[str]]:
    """``qemuargs`` rendered with HTTPIP, HTTPPort, HTTPDir, OutputDir, Name, SSHHostPort."""
    cfg = state.config
    data = go_struct(
        "qemu.qemuArgsTemplateData", HTTPIP=state.http_ip, HTTPPort=state.http_port, HTTPDir=cfg.http_directory,
        OutputDir=cfg.output_directory, Name=cfg.vm_name, SSHHostPort=state.ssh_host_port,
    )  # fmt: skip
    try:
        return [render_all(row, state.ctx.info, data) for row in cfg.qemuargs]
    except RenderError as exc:
        raise fail(f"Error processing QemuArgs: {exc}") from exc


def make_argv(state: QemuState) -> list[str]:
    cfg = state.config
    inputs = RunInputs(iso_path=state.iso_path, cd_path=state.cd_path, floppy_path=state.floppy_path,
                       disk_paths=state.disk_paths, ssh_host_port=state.ssh_host_port, vnc_port=state.vnc_port,
                       qmp_socket=state.qmp_socket, accelerator=state.accelerator)  # fmt: skip
    argv = apply_qemuargs(make_default_args(cfg, inputs), render_qemuargs(state), cfg.net_device)
    return [*argv, "-incoming", state.incoming] if state.incoming else argv


class RunVm(Step[QemuState]):
    @property
    def name(self) -> str:
        return "stepRun"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.qmp_enable and cfg.qmp_socket_path:
            state.qmp_socket = cfg.qmp_socket_path
        elif cfg.qmp_enable:
            state.qmp_socket = str(Path(cfg.output_directory) / f"{cfg.vm_name}.monitor")
        else:
            state.run_dir = tempfile.mkdtemp(prefix="imagesmith-qemu-")
            state.qmp_socket = str(Path(state.run_dir) / "qmp.sock")
        if state.layer.restored:
            ui.say("Starting VM from the cached layer's memory and disk")
        else:
            ui.say("Starting VM, booting disk image" if cfg.disk_image else "Starting VM, booting from CD-ROM")
        if cfg.qemuargs:
            ui.say("Overriding default Qemu arguments with qemuargs template option...")
        if cfg.headless and state.vnc_port:
            where = f"{cfg.vnc_bind_address}:{state.vnc_port - 5900}"
            ui.message("The VM will be run headless, without a GUI. If you want to\nview the screen of the VM, "
                       f"connect via VNC without a password to\nvnc://{where}")  # fmt: skip
        argv = make_argv(state)
        proc = await state.driver.start_vm(argv)
        try:
            with file_errors("connect to the QMP socket", state.qmp_socket):
                state.qmp = await _connect_qmp(state.qmp_socket, proc)
        except QmpError as exc:
            await asyncio.sleep(0.2)  # let stderr arrive
            raise fail(f"Error launching VM: {state.driver.vm_failed(argv)}") from exc
        if cfg.vnc_use_password and state.vnc_port:
            password = secrets.token_urlsafe(6)[:8]
            await state.qmp.execute("change-vnc-password", {"password": password})
            ui.message(f"VNC password: {password}")

    async def cleanup(self, state: QemuState) -> None:
        if state.qmp is not None:
            if state.driver.vm is not None and state.driver.vm.returncode is None:
                with contextlib.suppress(QmpError, OSError):
                    await asyncio.wait_for(state.qmp.execute("quit"), 2)
                await state.driver.wait_vm(3)
            await state.qmp.close()
            state.qmp = None
        await state.driver.stop_vm()
        if state.run_dir:
            shutil.rmtree(state.run_dir, ignore_errors=True)
        elif state.qmp_socket:
            Path(state.qmp_socket).unlink(missing_ok=True)


async def _connect_qmp(path: str, proc: Any) -> QmpClient:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120  # qemu creates the socket at once; this only bounds a stuck start
    while True:
        if proc.returncode is not None:
            raise QmpError(f"qemu exited with status {proc.returncode}")
        try:
            return await QmpClient.connect(path, timeout=0.5)
        except QmpError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.02)

"""The only code that runs VMware's tools (``vmrun``, ``vmware-vdiskmanager``) and ``qemu-img`` for
the vmware builders. Command lines are built by pure functions.

The driver is chosen as Packer 1.6.6 chooses on Linux: Workstation when ``vmware`` is on PATH,
else Player (``vmplayer`` and ``vmrun``); disks are made with ``vmware-vdiskmanager`` when it is
found, else with ``qemu-img`` (Player's fallback). A failing call raises
:class:`~imagesmith.errors.ToolError` with the command line and its stderr.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from imagesmith.errors import BuildError
from imagesmith.run import run


@dataclass(frozen=True)
class Tools:
    """Paths of the tools found; ``product`` is vmrun's ``-T`` value (``player`` or ``ws``)."""

    product: str
    vmrun: str
    vdiskmanager: str = ""
    qemu_img: str = ""
    #: Workstation 10+ and Player 6+ clone VMs (``vmrun -T ws clone``); Packer's Player 5 driver cannot
    can_clone: bool = True


#: VMware Player's own binary; Packer takes Player 6+ when it answers ``-v`` (else Player 5, which cannot clone)
PLAYER_VMX = "/usr/lib/vmware/bin/vmware-vmx"


def find_tools(which: object = shutil.which) -> Tools:
    """The tools on PATH, or a :class:`BuildError` listing what is missing (Packer's driver errors)."""
    look = which if callable(which) else shutil.which
    vmrun = look("vmrun")
    vdisk = look("vmware-vdiskmanager") or ""
    qemu_img = "" if vdisk else (look("qemu-img") or "")
    problems = []
    if look("vmware") and vmrun and vdisk:
        return Tools("ws", vmrun, vdisk)
    if not look("vmware"):
        problems.append("Workstation: 'vmware' was not found on PATH")
    if not look("vmplayer"):
        problems.append("Player: 'vmplayer' was not found on PATH")
    if not vmrun:
        problems.append("'vmrun' was not found on PATH")
    if not vdisk and not qemu_img:
        problems.append("Neither 'vmware-vdiskmanager', nor 'qemu-img' found in path.")
    if look("vmplayer") and vmrun and (vdisk or qemu_img):
        return Tools("player", vmrun, vdisk, qemu_img, can_clone=os.access(PLAYER_VMX, os.X_OK))
    raise BuildError(
        "Failed creating VMware driver: Unable to initialize any driver for this platform:\n"
        + "\n".join(f"* {p}" for p in problems)
    )


def make_create_disk_args(tools: Tools, path: str, size: str, adapter: str, type_id: str) -> list[str]:
    """Create a ``.vmdk`` of ``size`` (``40000M``)."""
    if tools.qemu_img:
        return [tools.qemu_img, "create", "-f", "vmdk", "-o", "compat6", path, size]
    return [tools.vdiskmanager, "-c", "-s", size, "-a", adapter, "-t", type_id, path]


def make_compact_args(tools: Tools, path: str) -> list[list[str]]:
    """The commands that compact a disk (qemu-img writes ``path.new``, the caller renames it)."""
    if tools.qemu_img:
        return [[tools.qemu_img, "convert", "-f", "vmdk", "-O", "vmdk", "-o", "compat6", path, path + ".new"]]
    return [[tools.vdiskmanager, "-d", path], [tools.vdiskmanager, "-k", path]]


def make_vmrun_args(tools: Tools, verb: str, *args: str) -> list[str]:
    """``vmrun -T PRODUCT VERB ARGS``."""
    return [tools.vmrun, "-T", tools.product, verb, *args]


def make_clone_args(tools: Tools, source: str, target: str, linked: bool) -> list[str]:
    """``vmrun -T ws clone SRC DST full|linked`` (Player 6 clones through Workstation's verb too)."""
    return [tools.vmrun, "-T", "ws", "clone", source, target, "linked" if linked else "full"]


def running_vmx(list_output: str) -> list[str]:
    """The ``.vmx`` paths of ``vmrun list``'s answer (its first line is the count)."""
    return [line for line in list_output.replace("\r\n", "\n").split("\n")[1:] if line]


class Driver:
    """Runs the VMware tools found by :func:`find_tools`."""

    def __init__(self, tools: Tools) -> None:
        self.tools = tools

    async def create_disk(self, path: str, size: str, adapter: str, type_id: str) -> None:
        await run(make_create_disk_args(self.tools, path, size, adapter, type_id), what="creating the disk")

    async def compact_disk(self, path: str) -> None:
        for argv in make_compact_args(self.tools, path):
            await run(argv, what="compacting the disk")
        if self.tools.qemu_img:
            os.replace(path + ".new", path)

    async def clone(self, target: str, source: str, linked: bool) -> None:
        if not self.tools.can_clone:
            raise BuildError(
                "Cloning is not supported with VMWare Player version 5. Please use VMWare Player version 6, or greater."
            )
        await run(make_clone_args(self.tools, source, target, linked), what="vmrun clone")

    async def start(self, vmx: str, headless: bool) -> None:
        await run(make_vmrun_args(self.tools, "start", vmx, "nogui" if headless else "gui"), what="vmrun start")

    async def stop(self, vmx: str) -> None:
        await run(make_vmrun_args(self.tools, "stop", vmx, "hard"), what="vmrun stop")

    async def is_running(self, vmx: str) -> bool:
        out = await run(make_vmrun_args(self.tools, "list"), what="vmrun list")
        return os.path.abspath(vmx) in running_vmx(out.text)

    async def run_all(self, commands: Sequence[Sequence[str]], what: str) -> None:
        for argv in commands:
            await run(argv, what=what)

"""Config keys every local VM builder shares (Packer 1.6.6's commonsteps/bootcommand/shutdowncommand
configs), as frozen dataclass mixins with their prepare-time checks.

A builder's config inherits the ones it has, next to :class:`CommunicatorConfig`::

    @dataclass(frozen=True)
    class MyConfig(CommunicatorConfig, HttpConfig, MediaConfig, VncBootConfig, ShutdownConfig, VmOutputConfig):
        ...

and its ``check`` yields from ``check_http()``, ``check_media()``, ``check_boot()``. Defaults are
Packer's where Packer sets them at decode time; defaults Packer fills in ``Prepare`` from the build
name (``output_directory``, ``vm_name``) stay empty here and each builder resolves them, because
the rules differ (``packer-NAME`` vs ``packer-NAME-UNIXTIME``). Used by the vmware builders; the
qemu and virtualbox configs still declare these keys themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.bootcommand import check_boot_command
from imagesmith.steps import media
from imagesmith.template.decode import option
from imagesmith.template.values import Duration


@dataclass(frozen=True)
class HttpConfig:
    """``commonsteps.HTTPConfig``: the files served to the guest's installer."""

    http_directory: str = option("")
    http_port_min: int = option(8000)
    http_port_max: int = option(9000)
    http_bind_address: str = option("")

    def check_http(self) -> Iterator[str]:
        if self.http_port_min > self.http_port_max:
            yield "http_port_min must be less than http_port_max"


@dataclass(frozen=True)
class MediaConfig:
    """``commonsteps.FloppyConfig`` and ``CDConfig`` (made by :mod:`imagesmith.steps.media`)."""

    floppy_files: list[str] = option(factory=list)
    floppy_dirs: list[str] = option(factory=list)
    floppy_label: str = option("")
    cd_files: list[str] = option(factory=list)
    cd_label: str = option("")

    def check_media(self) -> Iterator[str]:
        """Packer's errors for listed paths that do not exist (globs are not checked)."""
        yield from media.check_media(self.floppy_files, self.floppy_dirs, self.cd_files)


@dataclass(frozen=True)
class BootConfig:
    """``bootcommand.BootConfig``: what is typed, and when."""

    boot_command: list[str] = option(factory=list, render=False)
    boot_wait: Duration = option(Duration(10))
    boot_keygroup_interval: Duration = option(Duration(0))

    def check_boot(self) -> Iterator[str]:
        yield from check_boot_command(self.boot_command)


@dataclass(frozen=True)
class VncBootConfig(BootConfig):
    """``bootcommand.VNCConfig``: typing over VNC, one key event per ``boot_key_interval``."""

    boot_key_interval: Duration = option(Duration(0))
    disable_vnc: bool = option(False)


@dataclass(frozen=True)
class ShutdownConfig:
    """``shutdowncommand.ShutdownConfig``: empty ``shutdown_command`` means a hard stop."""

    shutdown_command: str = option("")
    shutdown_timeout: Duration = option(Duration(300))


@dataclass(frozen=True)
class VmOutputConfig:
    """Where the machine's files go, its name, and whether its console is shown."""

    output_directory: str = option("")
    vm_name: str = option("")
    headless: bool = option(False)

"""The qemu builder's ``firmware`` option with UEFI firmware (OVMF, Debian's ``ovmf``) under TCG.

One build installs the test guest from its ISO under UEFI: the boot command is typed into systemd-boot's
menu on the CD's EFI boot image, and the installer puts an EFI system partition on the disk. A second build
boots that disk alone (``disk_image``), again with ``firmware``: the firmware finds the disk's own loader,
and the provisioners see a kernel started by UEFI and the first build's marks.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.qemu.builder import QemuBuilder
from imagesmith.core.plugin import BuildContext, BuildInfo, Communicator
from imagesmith.errors import BuildError
from tests.integration.test_qemu_build import ISO, RecordingUi, _noop, _qemu_pids, _serial_tail, make_config

pytestmark = pytest.mark.integration
OVMF = Path("/usr/share/ovmf/OVMF.fd")  # code and variables in one image, for -bios
# systemd-boot's menu waits for ever; `e` edits the entry's kernel arguments with the cursor at the start.
EFI_BOOT_COMMAND = ["e<wait><end> ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
# Under TCG OVMF takes 5-10 s to show the loader's menu (longer on a loaded host); keys typed earlier are lost.
EFI_BOOT_WAIT = "25s"


@pytest.fixture(scope="module")
def efi_install(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import shutil

    from tests.conftest import require_tool

    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    require_tool(OVMF.exists(), f"needs UEFI firmware {OVMF} (apt-get install ovmf)")
    tmp = tmp_path_factory.mktemp("efi-install")
    cfg = make_config(tmp, firmware=str(OVMF), boot_wait=EFI_BOOT_WAIT, boot_command=EFI_BOOT_COMMAND)
    mark = "test -d /sys/firmware/efi && echo uefi > /root/mark-efi; cat /root/mark-efi"
    return {"tmp": tmp, **_build(cfg, tmp, mark)}


def _build(cfg: Any, tmp: Path, command: str) -> dict[str, Any]:
    ui = RecordingUi()
    seen: dict[str, Any] = {"ui": ui}

    async def provision(comm: Communicator | None, data: Mapping[str, str]) -> None:
        assert comm is not None
        out: list[str] = []
        seen["status"] = await comm.execute(command, stdout=out.append)
        seen["out"] = out

    builder = QemuBuilder(cfg, BuildInfo(build_name="qemu", builder_type="qemu"))
    try:
        seen["artifact"] = asyncio.run(builder.run(BuildContext(ui, builder.info, provision, _noop)))
    except BuildError as exc:
        pytest.fail(f"{exc}\n{ui.dump()}\nserial:\n{_serial_tail(tmp)}")
    assert _qemu_pids(str(tmp)) == []
    return seen


def test_iso_install_under_uefi_firmware(efi_install: dict[str, Any]) -> None:
    ui, tmp = efi_install["ui"], efi_install["tmp"]
    assert (efi_install["status"], efi_install["out"]) == (0, ["uefi"]), ui.dump()
    assert ui.find(r"GET /ks\.cfg 200"), ui.dump()
    serial = (tmp / "serial.log").read_text(errors="replace")
    assert re.search(r'BdsDxe: starting Boot\w+ "UEFI QEMU DVD-ROM', serial)  # OVMF ran the CD's EFI loader
    assert "UEFI: starting the installed system" in serial
    assert efi_install["artifact"].files == [str(tmp / "out" / "guest.qcow2")]


def test_installed_disk_boots_alone_under_uefi_firmware(efi_install: dict[str, Any], tmp_path: Path) -> None:
    disk = efi_install["artifact"].files[0]
    cfg = make_config(tmp_path, iso_url=disk, iso_checksum="none", disk_image=True, firmware=str(OVMF),
                      boot_command=[], boot_wait="0s", ssh_timeout="3m")  # fmt: skip
    seen = _build(cfg, tmp_path, "test -d /sys/firmware/efi && cat /root/mark-efi")
    assert (seen["status"], seen["out"]) == (0, ["uefi"]), seen["ui"].dump()
    serial = (tmp_path / "serial.log").read_text(errors="replace")
    # the firmware started the loader on the virtio disk (its EFI system partition's default path)
    started = re.search(r'BdsDxe: starting Boot\w+ "UEFI Misc Device" from PciRoot\(0x0\)/Pci\(0x4', serial)
    assert started, serial[-2000:]

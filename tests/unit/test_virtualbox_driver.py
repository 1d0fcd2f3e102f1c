"""The VBoxManage driver, against the recording VBoxManage stand-in (VirtualBox cannot run here):
Packer's failure rules, the VBOX_E_INVALID_OBJECT_STATE retry, and the stand-in's strictness."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from imagesmith.builders.virtualbox import commands as c
from imagesmith.builders.virtualbox.driver import (
    Driver,
    is_failure,
    parse_guest_additions_iso,
    parse_running,
    parse_version,
)
from imagesmith.errors import BuildError, ToolError

STANDIN = Path(__file__).resolve().parents[1] / "standins" / "virtualbox" / "VBoxManage"


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private stand-in home; returns the call log."""
    monkeypatch.setenv("VBOX_STANDIN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VBOX_STANDIN_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.delenv("VBOX_STANDIN_MODE", raising=False)
    monkeypatch.delenv("VBOX_STANDIN_FAIL", raising=False)
    return tmp_path / "calls.jsonl"


def _logged(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_failure_rules_as_packer() -> None:
    assert is_failure(1, "")
    assert is_failure(0, "VBoxManage.exe: error: something")
    assert is_failure(0, "0%...\nVBoxManage.bin: error: something")
    # Packer's pattern needs at least one character between "VBoxManage" and ":" (``[.a-z]+?``)
    assert not is_failure(0, "VBoxManage: error: Could not find a registered machine named 'x'")
    assert not is_failure(0, "0%...10%...100%")
    assert not is_failure(0, "warning: VBoxManage error: in text")


def test_parsers_as_packer() -> None:
    assert parse_version("6.1.16r140961\n") == "6.1.16"
    assert parse_version("5.2.44_OSEr139111") == "5.2.44"
    with pytest.raises(BuildError, match="not properly setup"):
        parse_version("WARNING: The vboxdrv kernel module is not loaded.")
    with pytest.raises(BuildError, match="No version found"):
        parse_version("garbage")
    props = "API version: 6_1\r\nDefault Guest Additions ISO:     /usr/share/vbox/ga.iso \r\n"
    assert parse_guest_additions_iso(props) == "/usr/share/vbox/ga.iso"
    assert parse_guest_additions_iso("Default Guest Additions ISO:  \n") == ""
    assert parse_running('name="x"\nVMState="stopping"\n')
    assert parse_running('VMState="paused"\r\n')
    assert not parse_running('VMState="poweroff"\nVMState_running="x"')


def test_stand_in_failing_call_shows_command_and_stderr(standin: Path) -> None:
    driver = Driver(str(STANDIN))
    with pytest.raises(ToolError) as caught:
        asyncio.run(driver.vboxmanage(c.make_start_command("nope", True)))
    text = str(caught.value)
    assert "startvm nope --type headless" in text
    assert "Could not find a registered machine named 'nope'" in text
    assert "VBOX_E_OBJECT_NOT_FOUND" in text


def test_stand_in_busy_machine_is_retried(standin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    driver = Driver(str(STANDIN), retry_delay=0.0)
    asyncio.run(driver.vboxmanage(c.make_create_vm_commands("vm1", "Other", 1, 512, False, "none")[0]))
    monkeypatch.setenv("VBOX_STANDIN_FAIL", "modifyvm:2:VBOX_E_INVALID_OBJECT_STATE")
    asyncio.run(driver.vboxmanage(["modifyvm", "vm1", "--cpus", "2"]))
    calls = [e for e in _logged(standin) if e["argv"] == ["modifyvm", "vm1", "--cpus", "2"]]
    assert [e["exit"] for e in calls] == [1, 1, 0]


def test_stand_in_other_errors_are_not_retried(standin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    driver = Driver(str(STANDIN), retry_delay=0.0)
    monkeypatch.setenv("VBOX_STANDIN_FAIL", "createvm")
    with pytest.raises(ToolError, match="injected failure"):
        asyncio.run(driver.vboxmanage(["createvm", "--name", "vm2", "--register"]))
    assert len(_logged(standin)) == 1


def test_stand_in_version_and_guest_additions(standin: Path) -> None:
    driver = Driver(str(STANDIN))
    assert asyncio.run(driver.version()) == "6.1.16"
    iso = asyncio.run(driver.guest_additions_iso())
    assert Path(iso).is_file()


def _raw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STANDIN), *args], capture_output=True, text=True, timeout=60)


def test_stand_in_refuses_what_packer_never_emits(standin: Path) -> None:
    assert _raw("list", "vms").returncode == 2
    assert _raw("guestproperty", "get", "x", "y").returncode == 2
    assert _raw("createvm", "--name", "vm3", "--register").returncode == 0
    done = _raw("modifyvm", "vm3", "--no-such-option", "1")
    assert done.returncode == 2 and "Invalid parameter '--no-such-option'" in done.stderr
    assert _raw("modifyvm", "vm3", "--usb", "maybe").returncode == 2
    assert _raw("showvminfo", "vm3").returncode == 2  # Packer always asks --machinereadable
    assert [e["exit"] for e in _logged(standin)] == [2, 2, 0, 2, 2, 2]


def test_stand_in_machine_lifecycle_and_delete(standin: Path, tmp_path: Path) -> None:
    vdi = tmp_path / "out" / "vm4.vdi"
    vdi.parent.mkdir()
    driver = Driver(str(STANDIN))

    async def scenario() -> tuple[bool, bool]:
        for argv in c.make_create_vm_commands("vm4", "RedHat_64", 1, 512, False, "none"):
            await driver.vboxmanage(argv)
        await driver.vboxmanage(c.make_create_hd_command(str(vdi), 64))
        await driver.vboxmanage(c.make_storagectl_command("vm4", "ide"))
        await driver.vboxmanage(c.make_attach_disk_command("vm4", "ide", str(vdi), False, False))
        await driver.vboxmanage(c.make_start_command("vm4", True))
        with pytest.raises(ToolError, match="VBOX_E_INVALID_OBJECT_STATE"):
            await Driver(str(STANDIN), retry_delay=0.0).vboxmanage(c.make_delete_command("vm4"))
        running = await driver.is_running("vm4")
        await driver.stop("vm4")
        stopped = not await driver.is_running("vm4")
        await driver.vboxmanage(c.make_export_command("vm4", str(tmp_path / "out" / "vm4.ovf"), []))
        await driver.delete("vm4")
        return running, stopped

    assert asyncio.run(scenario()) == (True, True)
    assert not vdi.exists()  # unregistervm --delete removes attached hard disks
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["vm4-disk001.vmdk", "vm4.ovf"]
    assert 'MACAddress="080027' in (tmp_path / "out" / "vm4.ovf").read_text()

"""virtualbox-iso's VBoxManage command lines and scancodes, compared as lists with what Packer 1.6.6
emitted for the same settings (recorded through the VBoxManage stand-in: tests/standins/virtualbox)."""

from __future__ import annotations

from imagesmith.bootcommand import parse_boot_command
from imagesmith.bootcommand.scancodes import plan_scancodes
from imagesmith.builders.virtualbox import commands as c

VM = "vmA"


def test_create_vm_defaults_as_packer() -> None:
    assert c.make_create_vm_commands(VM, "RedHat_64", 1, 512, False, "none") == [
        ["createvm", "--name", VM, "--ostype", "RedHat_64", "--register"],
        ["modifyvm", VM, "--boot1", "disk", "--boot2", "dvd", "--boot3", "none", "--boot4", "none"],
        ["modifyvm", VM, "--cpus", "1"],
        ["modifyvm", VM, "--memory", "512"],
        ["modifyvm", VM, "--usb", "off"],
        ["modifyvm", VM, "--audio", "none"],
    ]


def test_create_vm_sound_and_usb_as_packer() -> None:
    argvs = c.make_create_vm_commands(VM, "RedHat_64", 2, 700, True, "pulse")
    assert argvs[2:] == [
        ["modifyvm", VM, "--cpus", "2"],
        ["modifyvm", VM, "--memory", "700"],
        ["modifyvm", VM, "--usb", "on"],
        ["modifyvm", VM, "--audio", "pulse", "--audioin", "on", "--audioout", "on"],
    ]


def test_suppress_messages_as_packer() -> None:
    assert sorted(c.make_suppress_messages_commands(2026)) == [
        ["setextradata", "global", "GUI/RegistrationData", "triesLeft=0"],
        ["setextradata", "global", "GUI/SuppressMessages", "confirmInputCapture,remindAboutAutoCapture,"
         "remindAboutMouseIntegrationOff,remindAboutMouseIntegrationOn,remindAboutWrongColorDepth"],
        ["setextradata", "global", "GUI/UpdateCheckCount", "60"],
        ["setextradata", "global", "GUI/UpdateDate", "1 d, 2027-01-01, stable"],
    ]  # fmt: skip


def test_disk_and_controllers_as_packer() -> None:
    vdi = "output-virtualbox-iso/vmA.vdi"
    assert c.make_create_hd_command(vdi, 600) == [
        "createhd", "--filename", vdi, "--size", "600", "--format", "VDI", "--variant", "Standard",
    ]  # fmt: skip
    assert c.make_storagectl_command(VM, "ide") == ["storagectl", VM, "--name", "IDE Controller", "--add", "ide"]
    assert c.make_storagectl_command(VM, "sata", 2) == [
        "storagectl", VM, "--name", "SATA Controller", "--add", "sata", "--portcount", "2",
    ]  # fmt: skip
    assert c.make_storagectl_command(VM, "sata", 1, old_sata=True)[-2:] == ["--sataportcount", "1"]
    assert c.make_storagectl_command(VM, "scsi") == [
        "storagectl", VM, "--name", "SCSI Controller", "--add", "scsi", "--controller", "LSILogic",
    ]  # fmt: skip
    assert c.make_storagectl_command(VM, "pcie", 3) == [
        "storagectl", VM, "--name", "NVMe Controller", "--add", "pcie", "--controller", "NVMe", "--portcount", "3",
    ]  # fmt: skip
    assert c.make_attach_disk_command(VM, "sata", vdi, True, True) == [
        "storageattach", VM, "--storagectl", "SATA Controller", "--port", "0", "--device", "0", "--type", "hdd",
        "--medium", vdi, "--nonrotational", "on", "--discard", "on",
    ]  # fmt: skip
    assert c.make_attach_disk_command(VM, "ide", vdi, False, False)[-4:] == [
        "--nonrotational",
        "off",
        "--discard",
        "off",
    ]


def test_iso_slots_as_packer() -> None:
    iso = "/var/cache/imagesmith/test-guest/test-guest.iso"
    assert c.make_attach_dvd_command(VM, "ide", iso) == [
        "storageattach", VM, "--storagectl", "IDE Controller", "--port", "0", "--device", "1",
        "--type", "dvddrive", "--medium", iso,
    ]  # fmt: skip
    assert c.make_attach_dvd_command(VM, "ide", "ga.iso", kind="guest_additions")[3:9] == [
        "IDE Controller", "--port", "1", "--device", "0", "--type",
    ]  # fmt: skip
    assert c.make_attach_dvd_command(VM, "sata", iso)[3:8] == ["SATA Controller", "--port", "1", "--device", "0"]
    assert c.make_attach_dvd_command(VM, "sata", "none", kind="guest_additions") == [
        "storageattach", VM, "--storagectl", "SATA Controller", "--port", "2", "--device", "0",
        "--type", "dvddrive", "--medium", "none",
    ]  # fmt: skip
    assert c.make_attach_dvd_command(VM, "ide", "cd.iso", kind="cd_files")[3:8] == [
        "IDE Controller", "--port", "1", "--device", "1",
    ]  # fmt: skip
    assert c.make_attach_dvd_command(VM, "sata", "cd.iso", kind="cd_files")[3:8] == [
        "SATA Controller", "--port", "3", "--device", "0",
    ]  # fmt: skip


def test_export_asks_for_isos_twice_as_packer() -> None:
    """Packer 1.6.6's StepExport appends another ``--iso`` when ``export_opts`` has ``--iso`` or ``-I``."""
    assert c.make_export_command(VM, "o/vm.ovf", ["-I"]) == ["export", VM, "--output", "o/vm.ovf", "-I", "--iso"]
    assert c.make_export_command(VM, "o/vm.ovf", ["--iso", "--manifest"])[4:] == ["--iso", "--manifest", "--iso"]
    assert c.make_export_command(VM, "o/vm.ovf", ["--manifest"])[4:] == ["--manifest"]


def test_floppy_vrdp_nat_run_export_as_packer() -> None:
    assert c.make_floppy_commands(VM, "/tmp/f/floppy.vfd") == [
        ["storagectl", VM, "--name", "Floppy Controller", "--add", "floppy"],
        ["storageattach", VM, "--storagectl", "Floppy Controller", "--port", "0", "--device", "0", "--type", "fdd",
         "--medium", "/tmp/f/floppy.vfd"],
    ]  # fmt: skip
    assert c.make_detach_floppy_command(VM) == [
        "storageattach", VM, "--storagectl", "Floppy Controller", "--port", "0", "--device", "0", "--medium", "none",
    ]  # fmt: skip
    assert c.make_remove_floppy_controller_command(VM) == ["storagectl", VM, "--name", "Floppy Controller", "--remove"]
    assert c.make_vrdp_command(VM, "127.0.0.1", 5923) == [
        "modifyvm", VM, "--vrdeaddress", "127.0.0.1", "--vrdeauthtype", "null", "--vrde", "on", "--vrdeport", "5923",
    ]  # fmt: skip
    assert c.make_nic_nat_command(VM) == ["modifyvm", VM, "--nic1", "nat"]
    assert c.make_nat_rule_command(VM, 2473, 22) == ["modifyvm", VM, "--natpf1", "packercomm,tcp,127.0.0.1,2473,,22"]
    assert c.make_delete_nat_rule_command(VM) == ["modifyvm", VM, "--natpf1", "delete", "packercomm"]
    assert c.make_start_command(VM, True) == ["startvm", VM, "--type", "headless"]
    assert c.make_start_command(VM, False) == ["startvm", VM, "--type", "gui"]
    assert c.make_poweroff_command(VM) == ["controlvm", VM, "poweroff"]
    assert c.make_showvminfo_command(VM) == ["showvminfo", VM, "--machinereadable"]
    opts = ["--manifest", "--vsys", "0", "--description", "d"]
    assert c.make_export_command(VM, "output-virtualbox-iso/vmA.ova", opts) == [
        "export", VM, "--output", "output-virtualbox-iso/vmA.ova", "--manifest", "--vsys", "0", "--description", "d",
    ]  # fmt: skip
    assert c.make_delete_command(VM) == ["unregistervm", VM, "--delete"]


def _calls(text: str) -> list[str | float]:
    return [item if isinstance(item, float) else " ".join(item) for item in plan_scancodes(parse_boot_command(text))]


def test_scancode_groups_as_packer_typed_the_seed_command() -> None:
    # Packer 1.6.6's six keyboardputscancode calls for this command (HTTP port 8894), and the <wait>.
    assert _calls("<esc><wait>install ks=http://10.0.2.2:8894/ks.cfg<enter>") == [
        "01 81",
        1.0,
        "17 97 31 b1 1f 9f 14 94 1e 9e 26 a6 26 a6 39 b9 25 a5 1f 9f 0d 8d 23 a3",
        "14 94 14 94 19 99 2a 27 aa a7 35 b5 35 b5 02 82 0b 8b 34 b4 0b 8b 34 b4",
        "03 83 34 b4 03 83 2a 27 aa a7 09 89 09 89 0a 8a 05 85 35 b5 25 a5 1f 9f",
        "34 b4 2e ae 21 a1 22 a2 1c 9c",
    ]


def test_scancodes_shift_extended_and_held_keys_as_packer() -> None:
    assert _calls("<leftShiftOn>a<leftShiftOff><f1><up>B<spacebar>") == [
        "2a 1e 9e aa 3b bb e0 48 e0 c8 2a 30 aa b0 39 b9"
    ]


def test_scancode_groups_never_split_a_key_and_stay_within_25() -> None:
    plan = plan_scancodes(parse_boot_command("A" * 30 + "<del>" * 5))
    groups = [g for g in plan if not isinstance(g, float)]
    assert all(len(g) <= 25 for g in groups)
    assert [len(g) for g in groups] == [24] * 5 + [20]
    assert " ".join(" ".join(g) for g in groups) == " ".join(["2a 1e aa 9e"] * 30 + ["e0 53 e0 d3"] * 5)

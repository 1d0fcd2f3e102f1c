"""virtualbox-iso, virtualbox-ovf and virtualbox-vm, side by side with Packer 1.6.6, on the VBoxManage STAND-IN in
record mode (VirtualBox cannot run here; no VM runs: ``communicator: none``): every option that changes
the VBoxManage calls (SATA disk and ISO, guest additions attach, floppy, sound, USB, OVA, export_opts,
vboxmanage_post; an OVF import with its flags; a registered VM's snapshots attached, replaced and
restored) gives the same normalised call sequence as Packer's."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool, run_cli
from tests.packer_oracle import run_packer
from tests.vbox_standin import ISO, SILENT, normalise, run_standin, standin_env

pytestmark = pytest.mark.integration


def box_contents(box: Path) -> dict[str, bytes]:
    """Member base name -> bytes (Go's tar headers make Python read Packer's names as ``<digits>/name``)."""
    with tarfile.open(box) as tar:
        return {m.name.rsplit("/", 1)[-1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]

ISO_VARIANT: dict[str, Any] = {
    "type": "virtualbox-iso", "guest_os_type": "RedHat_64", "disk_size": 600, "vm_name": "vmA",
    "iso_url": str(ISO), "iso_checksum": "none", "hard_drive_interface": "sata", "iso_interface": "sata",
    "sata_port_count": 2, "hard_drive_nonrotational": True, "hard_drive_discard": True,
    "guest_additions_mode": "attach", "floppy_files": ["f.txt"], "sound": "pulse", "usb": True, "cpus": 2,
    "memory": 700, "boot_command": ["<leftShiftOn>a<leftShiftOff><f1><up>B<spacebar>"], "format": "ova",
    "export_opts": ["--manifest", "--vsys", "0", "--description", "d"],
    "vboxmanage": [["modifyvm", "{{.Name}}", "--memory", "512"]],
    "vboxmanage_post": [["modifyvm", "{{.Name}}", "--memory", "256"]], **SILENT,
}  # fmt: skip


def make_appliance(base: Path) -> Path:
    """An OVF + VMDK exported by the stand-in itself (the source for virtualbox-ovf)."""
    (base / "src").mkdir(parents=True)
    for argv in (["createvm", "--name", "src", "--ostype", "RedHat_64", "--register"],
                 ["createhd", "--filename", str(base / "src" / "src.vdi"), "--size", "64"],
                 ["storagectl", "src", "--name", "IDE Controller", "--add", "ide"],
                 ["storageattach", "src", "--storagectl", "IDE Controller", "--port", "0", "--device", "0",
                  "--type", "hdd", "--medium", str(base / "src" / "src.vdi")],
                 ["export", "src", "--output", str(base / "src" / "src.ovf")]):  # fmt: skip
        run_standin(base / "maker", *argv)
    return base / "src" / "src.ovf"


def build_both(
    base: Path, builder: dict[str, Any], prepare: Callable[[Path], None] | None = None, **template: Any
) -> dict[str, Path]:
    """``builder`` (and any other ``template`` sections) built by Packer and by imagesmith in ``base``."""
    works = {"packer": base / "packer", "imagesmith": base / "imagesmith"}
    for tool, work in works.items():
        work.mkdir(parents=True)
        if prepare is not None:
            prepare(work)
        (work / "f.txt").write_text("floppy\n")
        (work / "template.json").write_text(json.dumps({"builders": [builder], **template}))
        if tool == "packer":
            done = run_packer("build", "template.json", cwd=work, env=standin_env(work), timeout=900)
        else:
            done = run_cli("build", "template.json", cwd=work, env=standin_env(work), timeout=900)
        assert done.returncode == 0, f"{tool}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return works


@pytest.fixture
def need_packer_and_iso() -> None:
    require_tool(shutil.which("packer") is not None, "needs Packer 1.6.6 as the oracle")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")


def test_stand_in_iso_options_give_packers_calls(tmp_path: Path, need_packer_and_iso: None) -> None:
    works = build_both(tmp_path, ISO_VARIANT)
    ours, theirs = normalise(works["imagesmith"]), normalise(works["packer"])
    assert ours == theirs
    assert "storagectl vmA --name SATA Controller --add sata --portcount 2" in ours
    assert "export vmA --output output-virtualbox-iso/vmA.ova --manifest --vsys 0 --description d" in ours
    for tool, work in works.items():
        assert sorted(p.name for p in (work / "output-virtualbox-iso").iterdir()) == ["vmA.ova"], tool


def test_stand_in_ovf_import_gives_packers_calls(tmp_path: Path, need_packer_and_iso: None) -> None:
    source = make_appliance(tmp_path)
    builder = {"type": "virtualbox-ovf", "source_path": str(source), "checksum": "none", "vm_name": "ovfvm",
               "guest_additions_mode": "attach", "boot_command": ["a<enter>"], "import_flags": ["--eula", "accept"],
               "import_opts": "keepallmacs", **SILENT}  # fmt: skip
    works = build_both(tmp_path, builder)
    ours, theirs = normalise(works["imagesmith"]), normalise(works["packer"])
    assert ours == theirs
    assert f"import {source} --vsys 0 --vmname ovfvm --eula accept --options keepallmacs" in ours
    assert any("--port 1 --device 0 --type dvddrive --medium HOME/VBoxGuestAdditions.iso" in line for line in ours)
    for tool, work in works.items():
        names = sorted(p.name for p in (work / "output-virtualbox-ovf").iterdir())
        assert names == ["ovfvm-disk001.vmdk", "ovfvm.ovf"], tool


def register_vm(work: Path) -> None:
    """A registered VM "regvm" with a disk and the snapshots base -> after, base current."""
    disk = str(work / "disks" / "regvm.vdi")
    (work / "disks").mkdir()
    for argv in (["createvm", "--name", "regvm", "--ostype", "RedHat_64", "--register"],
                 ["createhd", "--filename", disk, "--size", "64"],
                 ["storagectl", "regvm", "--name", "IDE Controller", "--add", "ide"],
                 ["storageattach", "regvm", "--storagectl", "IDE Controller", "--port", "0", "--device", "0",
                  "--type", "hdd", "--medium", disk],
                 ["snapshot", "regvm", "take", "base"], ["snapshot", "regvm", "take", "after"],
                 ["snapshot", "regvm", "restore", "base"]):  # fmt: skip
        run_standin(work, *argv)


def test_stand_in_vm_snapshots_give_packers_calls(tmp_path: Path, need_packer_and_iso: None) -> None:
    builder = {"type": "virtualbox-vm", "vm_name": "regvm", "attach_snapshot": "base", "target_snapshot": "after",
               "force_delete_snapshot": True, "guest_additions_mode": "attach", "boot_command": ["a<enter>"],
               "floppy_files": ["f.txt"], "vboxmanage": [["modifyvm", "{{.Name}}", "--memory", "512"]],
               "vboxmanage_post": [["modifyvm", "{{.Name}}", "--cpus", "2"]], **SILENT}  # fmt: skip
    works = build_both(tmp_path, builder, prepare=register_vm)
    ours, theirs = normalise(works["imagesmith"]), normalise(works["packer"])
    assert ours == theirs
    listed = "snapshot regvm list --machinereadable"
    assert ours[0] == listed  # Packer's prepare-time checks come first
    restore_base, delete_after = ours[ours.index(listed, 1) + 1], ours[ours.index("snapshot regvm take after") - 1]
    assert restore_base.startswith("snapshot regvm restore ") and delete_after.startswith("snapshot regvm delete ")
    assert ours[-1] == restore_base  # the cleanup goes back to the snapshot that was current
    assert not any(line.startswith("unregistervm") for line in ours)
    for tool, work in works.items():
        names = sorted(p.name for p in (work / "output-virtualbox-vm").iterdir())
        assert names == ["regvm-disk001.vmdk", "regvm.ovf"], tool
        listing = run_standin(work, "snapshot", "regvm", "list", "--machinereadable")
        assert 'CurrentSnapshotName="base"' in listing and 'SnapshotName-1="after"' in listing, tool


def test_stand_in_vm_failed_export_restores_the_snapshot_and_keeps_the_vm(tmp_path: Path) -> None:
    require_tool(shutil.which("qemu-img") is not None, "the stand-in's createhd needs qemu-img")
    work = tmp_path / "imagesmith"
    work.mkdir()
    register_vm(work)
    builder = {"type": "virtualbox-vm", "vm_name": "regvm", "attach_snapshot": "after", "target_snapshot": "new",
               "guest_additions_mode": "disable", **SILENT}  # fmt: skip
    (work / "template.json").write_text(json.dumps({"builders": [builder]}))
    done = run_cli("build", "template.json", cwd=work, env={**standin_env(work), "VBOX_STANDIN_FAIL": "export"})
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Error exporting virtual machine" in output and "injected failure of 'export'" in output
    assert "Traceback" not in output
    assert not (work / "output-virtualbox-vm").exists()
    listing = run_standin(work, "snapshot", "regvm", "list", "--machinereadable")
    assert 'CurrentSnapshotName="base"' in listing and 'SnapshotName-1-1="new"' in listing  # taken, then restored
    assert (work / "vbox-home" / "VirtualBox VMs" / "regvm").is_dir()  # never deleted


def test_stand_in_cd_files_and_bundle_iso_give_packers_calls(tmp_path: Path, need_packer_and_iso: None) -> None:
    """``cd_files``/``cd_label`` make an ISO attached on IDE port 1 device 1; ``bundle_iso`` keeps the
    boot ISO attached through the export; ``-I`` in ``export_opts`` gets Packer's extra ``--iso``."""
    builder = {"type": "virtualbox-iso", "guest_os_type": "RedHat_64", "disk_size": 64, "vm_name": "vmC",
               "iso_url": str(ISO), "iso_checksum": "none", "guest_additions_mode": "disable",
               "cd_files": ["f.txt"], "cd_label": "cidata", "bundle_iso": True, "export_opts": ["-I"],
               "boot_command": ["a<enter>"], **SILENT}  # fmt: skip
    works = build_both(tmp_path, builder)
    ours, theirs = normalise(works["imagesmith"]), normalise(works["packer"])
    assert ours == theirs
    cd_attach = "storageattach vmC --storagectl IDE Controller --port 1 --device 1 --type dvddrive --medium CD"
    assert cd_attach in ours
    assert "storageattach vmC --storagectl IDE Controller --port 0 --device 1 --type dvddrive --medium none" not in ours
    assert "export vmC --output output-virtualbox-iso/vmC.ovf -I --iso" in ours


def test_stand_in_ova_boxed_for_vagrant_as_packer(tmp_path: Path, need_packer_and_iso: None) -> None:
    """``format: ova`` then the vagrant post-processor: the OVA is unpacked into the box (its OVF as
    box.ovf), the same members and metadata as Packer's box, and nothing unpacked is left behind."""
    builder = {"type": "virtualbox-iso", "guest_os_type": "RedHat_64", "disk_size": 64, "vm_name": "vmO",
               "iso_url": str(ISO), "iso_checksum": "none", "guest_additions_mode": "disable", "format": "ova",
               "export_opts": ["--manifest"], **SILENT}  # fmt: skip
    post = [{"type": "vagrant", "output": "box-{{.Provider}}.box", "keep_input_artifact": True}]
    works = build_both(tmp_path, builder, **{"post-processors": post})
    boxes = {tool: box_contents(work / "box-virtualbox.box") for tool, work in works.items()}
    assert sorted(boxes["imagesmith"]) == sorted(boxes["packer"]) == [
        "Vagrantfile", "box.ovf", "metadata.json", "vmO-disk001.vmdk", "vmO.mf",
    ]  # fmt: skip
    for name in ("metadata.json", "Vagrantfile", "box.ovf"):
        assert boxes["imagesmith"][name] == boxes["packer"][name], name
    for box in boxes.values():  # the manifest still names the OVF as exported (the disks' bytes differ per run)
        assert box["vmO.mf"].startswith(f"SHA256 (vmO.ovf) = {hashlib.sha256(box['box.ovf']).hexdigest()}".encode())
    assert b'base_mac = "' in boxes["imagesmith"]["Vagrantfile"]
    for tool, work in works.items():
        assert sorted(p.name for p in (work / "output-virtualbox-iso").iterdir()) == ["vmO.ova"], tool

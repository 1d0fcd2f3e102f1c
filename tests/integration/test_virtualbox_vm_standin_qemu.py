"""virtualbox-vm end to end against the VBoxManage STAND-IN in qemu mode (VirtualBox cannot run here;
the stand-in runs the VM under QEMU, TCG).

imagesmith's virtualbox-iso installs the test guest into a VM it keeps registered (``keep_registered``);
a snapshot "base" is taken; then Packer 1.6.6 and imagesmith each build virtualbox-vm from it, one
after the other on the same registered VM: boot from its disk, SSH, provision, shut down, export,
restore the snapshot. Their normalised VBoxManage call sequences must be equal, the exported disk
must hold the provisioner's mark, and the VM must stay registered with no QEMU left running."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool, run_cli
from tests.integration.test_virtualbox_standin_build import disk_holds_mark, make_template
from tests.packer_oracle import run_packer
from tests.vbox_standin import (
    ISO,
    free_port,
    kill_leftovers,
    normalise,
    qemu_pids,
    registered,
    run_standin,
    standin_env,
)

pytestmark = pytest.mark.integration
VM = "regvm"


def vm_template(tool: str) -> dict[str, Any]:
    builder = {"type": "virtualbox-vm", "vm_name": VM, "attach_snapshot": "base", "headless": True,
               "boot_wait": "1s", "guest_additions_mode": "disable", "ssh_username": "root",
               "ssh_password": "packer", "ssh_timeout": "10m", "shutdown_command": "shutdown -h now"}  # fmt: skip
    mark = f"provisioned-by-virtualbox-vm-{tool}"
    provisioner = {"type": "shell", "inline": [f"echo {mark} > /root/mark-{tool} && sync"]}
    return {"builders": [builder], "provisioners": [provisioner]}


@pytest.fixture(scope="module")
def vm_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    require_tool(shutil.which("packer") is not None, "needs Packer 1.6.6 as the oracle")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    base = tmp_path_factory.mktemp("vbox-vm-qemu")
    works = {"install": base / "install", "packer": base / "packer", "imagesmith": base / "imagesmith"}
    try:
        for tool, work in works.items():
            work.mkdir()
            env = standin_env(base, mode="qemu", VBOX_STANDIN_LOG=str(work / "calls.jsonl"))
            if tool == "install":
                template = make_template(free_port(), vm_name=VM, keep_registered=True)
                template.pop("post-processors")
                (work / "template.json").write_text(json.dumps(template))
                done = run_cli("build", "template.json", cwd=work, env=env, timeout=1500)
            else:
                (work / "template.json").write_text(json.dumps(vm_template(tool)))
                runner = run_packer if tool == "packer" else run_cli
                done = runner("build", "template.json", cwd=work, env=env, timeout=1500)
            assert done.returncode == 0, f"{tool} build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            assert qemu_pids(base) == [], f"{tool}: qemu left running"
            if tool == "install":
                run_standin(base, "snapshot", VM, "take", "base")
    finally:
        kill_leftovers(base)
    return {"base": base, **works}


def test_stand_in_vm_qemu_call_sequence_equals_packers(vm_builds: dict[str, Path]) -> None:
    ours, theirs = normalise(vm_builds["imagesmith"]), normalise(vm_builds["packer"])
    assert ours == theirs
    assert f"startvm {VM} --type headless" in ours
    assert not any(line.startswith("unregistervm") for line in ours)


def test_stand_in_vm_qemu_export_holds_the_mark_and_the_vm_stays(vm_builds: dict[str, Path], tmp_path: Path) -> None:
    vmdk = vm_builds["imagesmith"] / "output-virtualbox-vm" / f"{VM}-disk001.vmdk"
    assert disk_holds_mark(vmdk, tmp_path, b"provisioned-by-virtualbox-vm-imagesmith")
    assert registered(vm_builds["base"]) == [VM]
    listing = run_standin(vm_builds["base"], "snapshot", VM, "list", "--machinereadable")
    assert 'CurrentSnapshotName="base"' in listing

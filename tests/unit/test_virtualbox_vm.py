"""virtualbox-vm: its configuration (Packer 1.6.6's defaults and the messages ``packer validate``
printed for the same blocks, on the VBoxManage stand-in), the snapshot command lines, the parsing of
``snapshot list --machinereadable`` and the snapshot checks, and the step list."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from imagesmith.builders.virtualbox import commands as c
from imagesmith.builders.virtualbox.snapshots import Snapshot, parse_snapshots
from imagesmith.builders.virtualbox.steps.output_dir import PrepareOutputDir
from imagesmith.builders.virtualbox.steps.snapshot import find_snapshot_errors
from imagesmith.builders.virtualbox.vm_builder import make_vm_steps
from imagesmith.builders.virtualbox.vm_config import VirtualBoxVmConfig
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config

STANDIN = Path(__file__).resolve().parents[1] / "standins" / "virtualbox" / "VBoxManage"
BASE: dict[str, Any] = {"vm_name": "v", "ssh_username": "u"}
# base -> after, base -> other -> deep; "other" is current (as VirtualBox lists it)
LISTING = """SnapshotName="base"
SnapshotUUID="u-base"
SnapshotName-1="after"
SnapshotUUID-1="u-after"
SnapshotName-2="other"
SnapshotUUID-2="u-other"
CurrentSnapshotName="other"
CurrentSnapshotUUID="u-other"
CurrentSnapshotNode="SnapshotName-2"
SnapshotName-2-1="deep"
SnapshotUUID-2-1="u-deep"
"""


def decode(**overrides: Any) -> tuple[VirtualBoxVmConfig, list[str]]:
    problems: list[Problem] = []
    cfg = decode_config(VirtualBoxVmConfig, {**BASE, **overrides}, render=None, path="builders[0]", problems=problems)
    return cfg, [p.message for p in problems]


def test_defaults_as_packer() -> None:
    cfg, problems = decode()
    assert problems == []
    r = cfg.resolved("virtualbox-vm", 0)
    assert (r.vm_name, r.output_directory, r.output_filename, r.format) == ("v", "output-virtualbox-vm", "v", "ovf")
    assert float(r.post_shutdown_delay) == 2.0  # virtualbox-vm only; the other builders: 0
    assert (r.guest_additions_mode, r.guest_additions_interface) == ("upload", "ide")
    assert (r.attach_snapshot, r.target_snapshot, r.force_delete_snapshot) == ("", "", False)
    assert (r.keep_registered, r.skip_export) == (False, False)


def test_config_errors_as_packer_validate() -> None:
    _, problems = decode(attach_snapshot="x", target_snapshot="x")
    assert any("Attach snapshot x and target snapshot x cannot be the same" in p for p in problems)
    _, problems = decode(vm_name="")
    assert any("vm_name is required" in p for p in problems)  # Packer 1.6.6 panics here instead


def test_snapshot_command_lines() -> None:
    assert c.make_snapshot_list_command("v") == ["snapshot", "v", "list", "--machinereadable"]
    assert c.make_snapshot_take_command("v", "after") == ["snapshot", "v", "take", "after"]
    assert c.make_snapshot_restore_command("v", "u-base") == ["snapshot", "v", "restore", "u-base"]
    assert c.make_snapshot_delete_command("v", "u-after") == ["snapshot", "v", "delete", "u-after"]


def test_parse_snapshot_tree() -> None:
    assert parse_snapshots("This machine does not have any snapshots") is None
    root = parse_snapshots(LISTING)
    assert root is not None and root.name == "base" and root.parent is None
    assert [child.name for child in root.children] == ["after", "other"]
    current = root.current()
    assert current is not None and (current.name, current.uuid) == ("other", "u-other")
    assert [child.name for child in current.children] == ["deep"]
    assert [node.name for node in root.find_by_name("DEEP")] == ["deep"]
    deep = root.find_by_uuid("U-DEEP")
    assert deep is not None and deep.root() is root
    assert root.child_named("after") is not None and root.child_named("After") is None


def errors(tree: Snapshot | None, **overrides: Any) -> list[str]:
    cfg, _ = decode(**overrides)
    return find_snapshot_errors(cfg, tree)


def test_snapshot_checks_as_packer_validate() -> None:
    tree = parse_snapshots(LISTING)
    assert errors(tree, attach_snapshot="base", target_snapshot="new") == []
    assert errors(tree, attach_snapshot="nope") == ["Snapshot nope does not exist on VM v"]
    assert errors(None, attach_snapshot="base") == ["No snapshots defined on VM v. Unable to attach to base"]
    assert errors(None, target_snapshot="t") == []
    assert errors(tree, target_snapshot="other") == [
        "Target snapshot other cannot be the same as the snapshot to which the builder shall attach: other"
    ]
    assert errors(tree, attach_snapshot="base", target_snapshot="after") == [
        "Target snapshot after already exists as direct child of base for VM v. "
        "Use force_delete_snapshot = true to overwrite snapshot"
    ]
    assert errors(tree, attach_snapshot="base", target_snapshot="after", force_delete_snapshot=True) == []
    assert errors(tree, attach_snapshot="base", target_snapshot="deep") == [
        "Target snapshot deep already exists and is not a direct child of base"
    ]


def step_names(**overrides: Any) -> list[str]:
    class Ctx:
        ui = None

    cfg, problems = decode(**overrides)
    assert problems == []
    steps = make_vm_steps(cfg.resolved("b", 0), Ctx(), PrepareOutputDir())  # type: ignore[arg-type]
    return [s.name for s in steps if s is not None]


def test_step_list_follows_the_options() -> None:
    names = step_names(communicator="none", guest_additions_mode="attach", virtualbox_version_file="")
    assert names[:5] == ["CheckSnapshots", "StepOutputDir", "StepSuppressMessages", "StepSetSnapshot",
                         "StepHTTPIPDiscover"]  # fmt: skip
    assert names.index("StepImport") < names.index("StepAttachISOs") < names.index("StepConfigureVRDP")
    assert names.index("StepCreateSnapshot") + 1 == names.index("StepExport")
    names = step_names(
        communicator="none", guest_additions_mode="disable", virtualbox_version_file="", skip_export=True
    )
    assert "StepOutputDir" not in names and "StepDownloadGuestAdditions" not in names


def test_stand_in_snapshot_verbs_round_trip_and_refuse_the_rest(tmp_path: Path) -> None:
    env = {**os.environ, "VBOX_STANDIN_HOME": str(tmp_path / "h"), "VBOX_STANDIN_LOG": str(tmp_path / "log")}

    def vbox(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(STANDIN), *argv], env=env, capture_output=True, text=True, timeout=60)

    assert vbox("createvm", "--name", "v", "--register").returncode == 0
    empty = vbox("snapshot", "v", "list", "--machinereadable")
    assert (empty.returncode, empty.stdout.strip(), empty.stderr) == (1, "This machine does not have any snapshots", "")
    for name in ("base", "after"):
        assert vbox("snapshot", "v", "take", name).returncode == 0
    tree = parse_snapshots(vbox("snapshot", "v", "list", "--machinereadable").stdout)
    assert tree is not None and tree.current() is tree.children[0]
    assert vbox("snapshot", "v", "restore", tree.uuid).returncode == 0
    assert vbox("snapshot", "v", "delete", tree.children[0].uuid).returncode == 0
    after = parse_snapshots(vbox("snapshot", "v", "list", "--machinereadable").stdout)
    assert after is not None and after.current() is after and after.children == []
    for refused in (["take", "x", "--live"], ["restorecurrent"], ["list", "--details"], ["edit", "base"]):
        done = vbox("snapshot", "v", *refused)
        assert done.returncode == 2 and "VBoxManage: error:" in done.stderr, refused
    assert vbox("snapshot", "v", "restore", "nosuch").returncode == 1

"""``VBoxManage snapshot VM list|take|restore|delete`` for the VBoxManage stand-in (tests only).

Only what Packer 1.6.6's virtualbox-vm builder emits is accepted: ``list --machinereadable``,
``take NAME`` (no options), ``restore UUID|NAME`` and ``delete UUID|NAME``. The machine keeps its
snapshots as a list of ``{name, uuid, parent}`` plus the current one's UUID; the listing is in
VirtualBox's machine-readable format (``SnapshotName-1-2=...``, the ``CurrentSnapshot...`` lines right
after the current snapshot). The tree is recorded, not the disk contents: a restore changes which
snapshot is current, not the disk. UUIDs are derived from the VM, the name and the count of snapshots
taken, so two identical runs see identical UUIDs.
"""

from __future__ import annotations

import uuid
from typing import Any

from vboxstate import VBoxError, save_machine, syntax

NO_SNAPSHOTS = "This machine does not have any snapshots"


class QuietFailure(VBoxError):
    """Exit 1 with nothing on stderr (VBoxManage's answer for a machine without snapshots)."""

    def render(self) -> str:
        return ""


def children(vm: dict[str, Any], parent: str | None) -> list[dict[str, Any]]:
    return [snap for snap in vm.get("snapshots", []) if snap["parent"] == parent]


def find(vm: dict[str, Any], key: str) -> dict[str, Any]:
    for snap in vm.get("snapshots", []):
        if key in (snap["uuid"], snap["name"]):
            return snap
    raise VBoxError(f"Could not find a snapshot named '{key}'", "VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)")


def listing(vm: dict[str, Any]) -> list[str]:
    lines: list[str] = []

    def dump(snap: dict[str, Any], path: str) -> None:
        lines.extend([f'SnapshotName{path}="{snap["name"]}"', f'SnapshotUUID{path}="{snap["uuid"]}"'])
        if snap["uuid"] == vm.get("current_snapshot"):
            lines.extend([f'CurrentSnapshotName="{snap["name"]}"', f'CurrentSnapshotUUID="{snap["uuid"]}"',
                          f'CurrentSnapshotNode="SnapshotName{path}"'])  # fmt: skip
        for i, child in enumerate(children(vm, snap["uuid"]), start=1):
            dump(child, f"{path}-{i}")

    for root in children(vm, None):
        dump(root, "")
    return lines


def command(vm: dict[str, Any], args: list[str], running: bool) -> None:
    """Run ``snapshot VM <args>`` on the loaded machine ``vm`` and save it."""
    action, rest = (args[0], args[1:]) if args else ("", [])
    if action == "list":
        if rest not in ([], ["--machinereadable"]):
            raise syntax(f"Invalid parameter '{' '.join(rest)}'")
        lines = listing(vm)
        if not lines:
            print(NO_SNAPSHOTS)
            raise QuietFailure("")
        print("\n".join(lines))
        return
    if len(rest) != 1:
        raise syntax(f"Invalid parameter '{' '.join(args)}'")
    if action == "take":
        taken = vm.setdefault("snapshots_taken", 0) + 1
        seed = f"vbox-standin-snapshot:{vm['name']}:{rest[0]}:{taken}"
        snap = {
            "name": rest[0],
            "parent": vm.get("current_snapshot"),
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
        }
        vm["snapshots_taken"] = taken
        vm.setdefault("snapshots", []).append(snap)
        vm["current_snapshot"] = snap["uuid"]
        print(f"0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\nSnapshot taken. UUID: {snap['uuid']}")
    elif action == "restore":
        if running:
            raise VBoxError("Cannot restore a snapshot of a running machine", "VBOX_E_INVALID_VM_STATE (0x80bb0002)")
        snap = find(vm, rest[0])
        vm["current_snapshot"] = snap["uuid"]
        print(f"Restoring snapshot '{snap['name']}' ({snap['uuid']})\n0%...100%")
    elif action == "delete":
        delete(vm, find(vm, rest[0]))
    else:
        raise syntax(f"Invalid parameter '{action}'")
    save_machine(vm)


def delete(vm: dict[str, Any], snap: dict[str, Any]) -> None:
    """Remove ``snap``; its child (VirtualBox refuses more than one) moves up to its parent."""
    kids = children(vm, snap["uuid"])
    if len(kids) > 1:
        raise VBoxError(f"Snapshot '{snap['name']}' of the machine '{vm['name']}' has more than one child snapshot",
                        "VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)")  # fmt: skip
    for kid in kids:
        kid["parent"] = snap["parent"]
    vm["snapshots"] = [s for s in vm["snapshots"] if s is not snap]
    if vm.get("current_snapshot") == snap["uuid"]:
        vm["current_snapshot"] = snap["parent"]
    print("0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%")

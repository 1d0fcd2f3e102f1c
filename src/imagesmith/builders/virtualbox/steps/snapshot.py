"""virtualbox-vm's steps around the existing VM: the snapshot checks Packer makes while preparing,
StepSetSnapshot (attach ``attach_snapshot``, restore the previous one afterwards), StepImport (only
names the VM: it is never deleted) and StepCreateSnapshot (``target_snapshot``)."""

from __future__ import annotations

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.snapshots import Snapshot
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.builders.virtualbox.steps.create_vm import RegisteredVm
from imagesmith.builders.virtualbox.vm_config import VirtualBoxVmConfig
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError


async def load_snapshots(state: VBoxState, error: str) -> Snapshot | None:
    try:
        return await state.driver.load_snapshots(state.config.vm_name)
    except ToolError as exc:
        raise fail(f"{error}: {exc}") from exc


def find_snapshot_errors(cfg: VirtualBoxVmConfig, tree: Snapshot | None) -> list[str]:
    """Packer's prepare-time checks of ``attach_snapshot`` and ``target_snapshot`` against the tree."""
    vm, errors = cfg.vm_name, []
    attach = tree.current() if tree is not None else None
    if cfg.attach_snapshot:
        found = tree.find_by_name(cfg.attach_snapshot) if tree is not None else []
        if tree is None:
            errors.append(f"No snapshots defined on VM {vm}. Unable to attach to {cfg.attach_snapshot}")
        elif not found:
            errors.append(f"Snapshot {cfg.attach_snapshot} does not exist on VM {vm}")
        elif len(found) > 1:
            errors.append(f"Multiple Snapshots with name {cfg.attach_snapshot} exist on VM {vm}")
        else:
            attach = found[0]
    if not cfg.target_snapshot or tree is None or attach is None:
        return errors
    if cfg.target_snapshot == attach.name:
        errors.append(f"Target snapshot {cfg.target_snapshot} cannot be the same as the snapshot to which "
                      f"the builder shall attach: {attach.name}")  # fmt: skip
        return errors
    existing = tree.find_by_name(cfg.target_snapshot)
    # Packer looks at the last snapshot of that name only (its loop overwrites the answer)
    if existing and existing[-1].parent is not attach:
        errors.append(
            f"Target snapshot {cfg.target_snapshot} already exists and is not a direct child of {attach.name}"
        )
    elif existing and not cfg.force_delete_snapshot:
        errors.append(f"Target snapshot {cfg.target_snapshot} already exists as direct child of {attach.name} "
                      f"for VM {vm}. Use force_delete_snapshot = true to overwrite snapshot")  # fmt: skip
    return errors


class CheckSnapshots(Step[VBoxState]):
    """What Packer's ``Config.Prepare`` checks with VBoxManage, every error at once."""

    def __init__(self, cfg: VirtualBoxVmConfig) -> None:
        self.cfg = cfg

    @property
    def name(self) -> str:
        return "CheckSnapshots"

    async def run(self, state: VBoxState) -> None:
        tree = await load_snapshots(state, f"Failed to load snapshots for VM {self.cfg.vm_name}")
        errors = find_snapshot_errors(self.cfg, tree)
        if errors:
            raise fail("\n".join(f"* {error}" for error in errors))


class SetSnapshot(Step[VBoxState]):
    """Restore ``attach_snapshot``; cleanup restores the snapshot that was current before, unless
    ``keep_registered``."""

    def __init__(self, cfg: VirtualBoxVmConfig) -> None:
        self.cfg = cfg
        self.revert_to = ""

    @property
    def name(self) -> str:
        return "StepSetSnapshot"

    async def run(self, state: VBoxState) -> None:
        tree = await load_snapshots(state, "Error loading snapshots for VM")
        if not self.cfg.attach_snapshot:
            return
        vm = self.cfg.vm_name
        if tree is None:
            raise fail(f"Unable to attach snapshot on VM {vm} when no snapshots exist")
        current = tree.current()
        self.revert_to = current.uuid if current is not None else ""
        state.ctx.ui.say(f"Attaching snapshot {self.cfg.attach_snapshot} on virtual machine {vm}")
        found = tree.find_by_name(self.cfg.attach_snapshot)
        if not found:
            raise fail(f"Snapshot {self.cfg.attach_snapshot} not found on VM {vm}")
        await restore(state, found[0])

    async def cleanup(self, state: VBoxState) -> None:
        if not self.revert_to:
            return
        ui, vm = state.ctx.ui, self.cfg.vm_name
        if self.cfg.keep_registered:
            ui.say("Keeping virtual machine state (keep_registered = true)")
            return
        ui.say(f"Reverting to snapshot {self.revert_to} on virtual machine {vm}")
        try:
            tree = await state.driver.load_snapshots(vm)
            target = tree.find_by_uuid(self.revert_to) if tree is not None else None
            if target is None:
                raise fail(f"Snapshot with UUID {self.revert_to} not found for VM {vm}")
            await restore(state, target)
        except ToolError as exc:
            raise fail(f"error loading virtual machine {vm} snapshots: {exc}") from exc


async def restore(state: VBoxState, snapshot: Snapshot) -> None:
    try:
        await state.driver.vboxmanage(commands.make_snapshot_restore_command(state.config.vm_name, snapshot.uuid))
    except ToolError as exc:
        raise fail(f"Unable to set snapshot for VM: {exc}") from exc


class UseVm(RegisteredVm):
    """StepImport: the VM exists already; it is neither created nor deleted."""

    @property
    def name(self) -> str:
        return "StepImport"

    async def run(self, state: VBoxState) -> None:
        state.vm_name = state.config.vm_name

    async def cleanup(self, state: VBoxState) -> None:
        state.vm_name = ""


class CreateSnapshot(Step[VBoxState]):
    """Take ``target_snapshot`` of the stopped VM, replacing a child of that name of the current one."""

    def __init__(self, cfg: VirtualBoxVmConfig) -> None:
        self.cfg = cfg

    @property
    def name(self) -> str:
        return "StepCreateSnapshot"

    async def run(self, state: VBoxState) -> None:
        vm, target = self.cfg.vm_name, self.cfg.target_snapshot
        if not target:
            state.ctx.ui.say("No target snapshot defined...")
            return
        try:
            running = await state.driver.is_running(vm)
        except ToolError as exc:
            raise fail(f"Failed to test if VM {vm} is still running: {exc}") from exc
        if running:
            raise fail(f"VM {vm} is still running. Unable to create snapshot {target}")
        state.ctx.ui.say(f"Creating snapshot {target} on virtual machine {vm}")
        tree = await load_snapshots(state, f"Failed to load snapshots for VM {vm}")
        current = tree.current() if tree is not None else None
        old = current.child_named(target) if current is not None else None
        if old is not None:
            try:
                await state.driver.vboxmanage(commands.make_snapshot_delete_command(vm, old.uuid))
            except ToolError as exc:
                raise fail(f"Unable to delete snapshot {target} from VM {vm}: {exc}") from exc
        try:
            await state.driver.vboxmanage(commands.make_snapshot_take_command(vm, target))
        except ToolError as exc:
            raise fail(f"Error creating snaphot VM: {exc}") from exc

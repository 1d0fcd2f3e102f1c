"""StepModifyAMIAttributes: description, launch permissions, product codes, snapshot permissions."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.render import render_late
from imagesmith.builders.amazon.state import EbsState
from imagesmith.core.steps import Step


def image_changes(cfg: Any, description: str) -> list[dict[str, Any]]:
    """One ModifyImageAttribute request body per attribute (Packer sends them in Go map order: random).

    For groups and users Packer names them twice: ``UserGroups``/``UserIds`` and in ``LaunchPermission.Add``.
    """
    changes: list[dict[str, Any]] = []
    if description:
        changes.append({"Description": {"Value": description}})
    if cfg.ami_groups:
        changes.append(
            {"UserGroups": list(cfg.ami_groups), "LaunchPermission": {"Add": [{"Group": g} for g in cfg.ami_groups]}}
        )
    if cfg.ami_users:
        changes.append(
            {"UserIds": list(cfg.ami_users), "LaunchPermission": {"Add": [{"UserId": u} for u in cfg.ami_users]}}
        )
    if cfg.ami_product_codes:
        changes.append({"ProductCodes": list(cfg.ami_product_codes)})
    return changes


def snapshot_changes(cfg: Any) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    if cfg.snapshot_groups:  # Packer names them twice too: GroupNames (UserGroup.N) and in the permission
        changes.append({"GroupNames": list(cfg.snapshot_groups),
                        "CreateVolumePermission": {"Add": [{"Group": g} for g in cfg.snapshot_groups]}})  # fmt: skip
    if cfg.snapshot_users:
        changes.append({"UserIds": list(cfg.snapshot_users),
                        "CreateVolumePermission": {"Add": [{"UserId": u} for u in cfg.snapshot_users]}})  # fmt: skip
    return changes


class ModifyAmiAttributes(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepModifyAMIAttributes"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        description = render_late(cfg.ami_description, state.generated.extra, state.ctx.info, "ami_description")
        images, snapshots = image_changes(cfg, description), snapshot_changes(cfg)
        if not images and not snapshots:
            return
        for region, image_id in state.amis.items():
            ui.say(f"Modifying attributes on AMI ({image_id})...")
            for change in images:
                await state.aws.call("ec2", "ModifyImageAttribute", region, ImageId=image_id, **change)
            for snapshot in state.snapshots.get(region, []):
                ui.say(f"Modifying attributes on snapshot ({snapshot})...")
                for change in snapshots:
                    await state.aws.call("ec2", "ModifySnapshotAttribute", region, SnapshotId=snapshot, **change)

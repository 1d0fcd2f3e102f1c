"""StepAMIRegionCopy: copy the AMI to ``ami_regions`` (and, encrypted, into the build region).

The copies run concurrently. As in Packer 1.6.6, copies made before a later failure are kept;
only the intermediary image of an ``encrypt_boot`` build is removed on cleanup.
"""

from __future__ import annotations

import asyncio
from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.create_ami import delete_image, is_intermediary, wait_for_image
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ImagesmithError


def target_regions(cfg: Any) -> list[str]:
    """Packer's DeduplicateRegions: the build region is a target only for an intermediary image."""
    regions = dict.fromkeys([cfg.region, *cfg.ami_regions])
    if not is_intermediary(cfg) or cfg.skip_save_build_region:
        regions.pop(cfg.region, None)
    return list(regions)


def kms_key_for(cfg: Any, region: str) -> str:
    if not cfg.encrypt_boot:
        return ""
    keys = dict(cfg.region_kms_key_ids)
    if cfg.kms_key_id:
        keys.setdefault(cfg.region, cfg.kms_key_id)
    return str(keys.get(region, ""))


class AmiRegionCopy(Step[EbsState]):
    def __init__(self) -> None:
        self.intermediary = ""

    @property
    def name(self) -> str:
        return "StepAMIRegionCopy"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        source = state.amis[cfg.region]
        if is_intermediary(cfg):
            self.intermediary = source
        regions = target_regions(cfg)
        if not regions:
            return
        ui.say(f"Copying/Encrypting AMI ({source}) to other regions...")
        for region in regions:
            ui.message(f"Copying to: {region}")
        ui.message("Waiting for all copies to complete...")
        results = await asyncio.gather(*(self._copy(state, source, r) for r in regions), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for error in errors:
            if not isinstance(error, ImagesmithError):
                raise error
        if errors:
            raise fail("\n".join(str(e) for e in errors))

    async def _copy(self, state: EbsState, source: str, region: str) -> None:
        cfg = state.config
        params: dict[str, Any] = {"SourceRegion": cfg.region, "SourceImageId": source, "Name": cfg.ami_name,
                                  "KmsKeyId": kms_key_for(cfg, region)}  # fmt: skip
        if cfg.encrypt_boot is not None:
            params["Encrypted"] = cfg.encrypt_boot

        def keep(result: dict[str, Any]) -> None:
            state.amis[region] = result["ImageId"]

        await state.aws.call("ec2", "CopyImage", region, on_result=keep, **params)
        state.snapshots[region] = await wait_for_image(state, region, state.amis[region])

    async def cleanup(self, state: EbsState) -> None:
        if not self.intermediary:
            return
        state.ctx.ui.say(f"Deregistering intermediary AMI {self.intermediary} and its snapshots...")
        await delete_image(state, state.config.region, self.intermediary)
        self.intermediary = ""

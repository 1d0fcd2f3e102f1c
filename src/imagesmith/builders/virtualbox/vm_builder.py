"""virtualbox-vm: provision a VM already registered with VirtualBox, optionally from one of its
snapshots and into a new one, then export it (``builder/virtualbox/vm``).

Unlike virtualbox-iso and virtualbox-ovf, the VM is never created or deleted; the cleanup only
restores the snapshot that was current before, unless ``keep_registered``.
"""

from __future__ import annotations

import time

from imagesmith.builders.virtualbox.builder import make_http_steps, make_media_steps, make_tail, run_build
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.builders.virtualbox.steps.create_vm import SuppressMessages
from imagesmith.builders.virtualbox.steps.guest_additions import FindGuestAdditions
from imagesmith.builders.virtualbox.steps.media import AttachIsos
from imagesmith.builders.virtualbox.steps.output_dir import PrepareOutputDir
from imagesmith.builders.virtualbox.steps.snapshot import CheckSnapshots, CreateSnapshot, SetSnapshot, UseVm
from imagesmith.builders.virtualbox.vm_config import VirtualBoxVmConfig
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step, when


def make_vm_steps(cfg: VirtualBoxVmConfig, ctx: BuildContext, output: PrepareOutputDir) -> list[Step[VBoxState] | None]:
    """Packer's virtualbox-vm step list, after the snapshot checks Packer makes while preparing."""
    vm = UseVm()
    return [
        CheckSnapshots(cfg),
        when(not cfg.skip_export, output),
        SuppressMessages(),
        *make_media_steps(cfg),
        SetSnapshot(cfg),
        *make_http_steps(cfg, ctx),
        when(cfg.guest_additions_mode != "disable", FindGuestAdditions()),
        vm,
        when(cfg.guest_additions_mode == "attach" or cfg.cd_files, AttachIsos(None)),
        *make_tail(cfg, ctx, vm, output, before_export=CreateSnapshot(cfg)),
    ]


class VirtualBoxVmBuilder(Builder):
    type_name = "virtualbox-vm"
    config_class = VirtualBoxVmConfig
    late_render = frozenset({"boot_command", "vboxmanage", "vboxmanage_post", "guest_additions_path",
                             "guest_additions_url"})  # fmt: skip

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: VirtualBoxVmConfig = self.config.resolved(self.info.build_name, int(time.time()))
        artifact = await run_build(ctx, cfg, make_vm_steps(cfg, ctx, PrepareOutputDir()))
        return None if cfg.skip_export else artifact  # Packer 1.6.6: no export, no artifact

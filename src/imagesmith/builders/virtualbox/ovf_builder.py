"""virtualbox-ovf: import an OVF/OVA, provision it, export it again (``builder/virtualbox/ovf``)."""

from __future__ import annotations

import time

from imagesmith.builders.virtualbox.builder import make_head, make_tail, run_build
from imagesmith.builders.virtualbox.ovf_config import VirtualBoxOvfConfig
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.builders.virtualbox.steps.create_vm import ImportVm, SuppressMessages
from imagesmith.builders.virtualbox.steps.media import AttachIsos
from imagesmith.builders.virtualbox.steps.output_dir import PrepareOutputDir
from imagesmith.core.plugin import Artifact, BuildContext, Builder
from imagesmith.core.steps import Step
from imagesmith.steps.download import DownloadIso


def make_ovf_steps(
    cfg: VirtualBoxOvfConfig, ctx: BuildContext, output: PrepareOutputDir
) -> list[Step[VBoxState] | None]:
    """Packer's virtualbox-ovf step list: the source appliance is downloaded (and checked) like an ISO."""
    download = DownloadIso[VBoxState](ctx.ui, [cfg.source_path], cfg.checksum or "none", cfg.target_path, "ovf")
    imported = ImportVm(cfg.import_arguments)
    return [
        SuppressMessages(),  # first in virtualbox-ovf, after the HTTP server in virtualbox-iso
        *make_head(cfg, ctx, download, output),
        imported,
        AttachIsos(None) if cfg.guest_additions_mode == "attach" or cfg.cd_files else None,
        *make_tail(cfg, ctx, imported, output),
    ]


class VirtualBoxOvfBuilder(Builder):
    type_name = "virtualbox-ovf"
    config_class = VirtualBoxOvfConfig
    late_render = frozenset({"boot_command", "vboxmanage", "vboxmanage_post", "guest_additions_path",
                             "guest_additions_url"})  # fmt: skip

    async def run(self, ctx: BuildContext) -> Artifact | None:
        cfg: VirtualBoxOvfConfig = self.config.resolved(self.info.build_name, int(time.time()))
        return await run_build(ctx, cfg, make_ovf_steps(cfg, ctx, PrepareOutputDir()))

"""StepBundleVolume (amazon-instance): ``bundle_vol_command`` (ec2-bundle-vol) in the guest.

The command is rendered when it runs, with Packer's data (``{{ .KeyPath }}``, ``{{ .AccountId }}``,
``{{ .Architecture }}`` of the instance, ...).
"""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.guest_command import run_in_guest
from imagesmith.core.render import go_struct, render_runtime
from imagesmith.core.steps import Step, fail

VOL_FAILED = (
    "Volume bundling failed. Please see the output above for more\n"
    "details on what went wrong.\n\n"
    "One common cause for this error is ec2-bundle-vol not being\n"
    "available on the target instance."
)


class BundleVolume(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepBundleVolume"

    async def run(self, state: EbsState) -> None:
        cfg: Any = state.config
        data = go_struct(
            "instance.bundleCmdData", AccountId=cfg.account, Architecture=state.instance.get("Architecture", ""),
            CertPath=state.bundle.cert_path, Destination=cfg.bundle_destination, KeyPath=state.bundle.key_path,
            Prefix=cfg.bundle_prefix, PrivatePath=cfg.x509_upload_path,
        )  # fmt: skip
        command = render_runtime(
            cfg.bundle_vol_command, state.ctx.info, data, error="Error processing bundle volume command: "
        )
        state.ctx.ui.say("Bundling the volume...")
        if await run_in_guest(state, command, "bundling volume") != 0:
            raise fail(VOL_FAILED)
        state.bundle.manifest_name = f"{cfg.bundle_prefix}.manifest.xml"
        state.bundle.manifest_path = f"{cfg.bundle_destination}/{state.bundle.manifest_name}"

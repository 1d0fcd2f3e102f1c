"""StepUploadBundle (amazon-instance): ``bundle_upload_command`` (ec2-upload-bundle) in the guest.

Rendered when it runs with the bucket, manifest, region and the credentials (``{{ .AccessKey }}``,
``{{ .SecretKey }}``, ``{{ .Token }}``): registered secrets, so masked wherever the command or its
output is shown.
"""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.guest_command import run_in_guest
from imagesmith.core.render import go_struct, render_runtime
from imagesmith.core.steps import Step, fail

UPLOAD_FAILED = "Bundle upload failed. Please see the output above for more\ndetails on what went wrong."


def upload_credentials(state: EbsState) -> tuple[str, str, str]:
    """The template's keys, else the session's credentials (with their token), as Packer picks them."""
    cfg = state.config
    if cfg.access_key or cfg.secret_key:
        return cfg.access_key, cfg.secret_key, ""
    credentials = state.aws.session.get_credentials() if state.aws.session is not None else None
    if credentials is None:
        return "", "", ""
    frozen = credentials.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token or ""


class UploadBundle(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepUploadBundle"

    async def run(self, state: EbsState) -> None:
        cfg: Any = state.config
        ui = state.ctx.ui
        access_key, secret_key, token = upload_credentials(state)
        data = go_struct(
            "instance.uploadCmdData", AccessKey=access_key, BucketName=cfg.s3_bucket,
            BundleDirectory=cfg.bundle_destination, ManifestPath=state.bundle.manifest_path, Region=cfg.region,
            SecretKey=secret_key, Token=token,
        )  # fmt: skip
        command = render_runtime(
            cfg.bundle_upload_command, state.ctx.info, data, error="Error processing bundle upload command: "
        )
        ui.say("Uploading the bundle...")
        status = await run_in_guest(state, command, "uploading volume")
        if status == 3:
            ui.error(
                f"Please check that the bucket `{cfg.s3_bucket}` does not exist, or exists and is writable. "
                "This error indicates that the bucket may be owned by somebody else."
            )
        if status != 0:
            raise fail(UPLOAD_FAILED)
        state.bundle.remote_manifest_path = f"{cfg.s3_bucket}/{state.bundle.manifest_name}"

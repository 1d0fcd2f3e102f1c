"""StepUploadX509Cert (amazon-instance): the X.509 certificate and key to ``x509_upload_path`` in the guest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.guest_command import communicator
from imagesmith.core.steps import Step, fail


class UploadX509Cert(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepUploadX509Cert"

    async def run(self, state: EbsState) -> None:
        cfg: Any = state.config
        comm = communicator(state)
        cert = f"{cfg.x509_upload_path}/cert.pem"
        key = f"{cfg.x509_upload_path}/key.pem"
        state.ctx.ui.say("Uploading X509 Certificate...")
        for remote, local in ((cert, cfg.x509_cert_path), (key, cfg.x509_key_path)):
            try:
                await comm.upload(remote, Path(local))
            except OSError as exc:
                raise fail(f"Error uploading X509 cert: {exc}") from exc
        state.bundle.cert_path, state.bundle.key_path = cert, key

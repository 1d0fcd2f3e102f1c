"""StepRegisterAMI (amazon-instance): RegisterImage from the bundle's manifest in S3."""

from __future__ import annotations

from typing import Any

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.register_ami import RegisterImageStep


class RegisterBundle(RegisterImageStep):
    """RegisterImage from the uploaded manifest, then wait until the AMI is available.

    Packer 1.6.6 leaves the AMI when a later step fails; imagesmith deregisters it (nothing is
    left behind by a failed build; docs/differences.md).
    """

    keep_snapshots = False
    cleanup_message = "Deregistering the AMI because of cancellation or error..."

    def image_params(self, state: EbsState) -> dict[str, Any]:
        cfg: Any = state.config
        params: dict[str, Any] = {"ImageLocation": state.bundle.remote_manifest_path}
        mappings = [device.to_api() for device in cfg.ami_block_device_mappings]
        if mappings:
            params["BlockDeviceMappings"] = mappings
        if cfg.ami_virtualization_type:
            params["VirtualizationType"] = cfg.ami_virtualization_type
        return params

"""The vmware builders' artifact: the files of ``output_directory`` (Packer's ``mitchellh.vmware``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from imagesmith.core.artifact import FileArtifact

BUILDER_ID = "mitchellh.vmware"


def make_artifact(output_dir: str, vm_name: str, state: Mapping[str, Any]) -> FileArtifact:
    """Every file under ``output_dir``; the id is the VM's name."""
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(output_dir) for name in names)
    return FileArtifact(
        BUILDER_ID,
        files,
        artifact_id=vm_name,
        description=f"VM files in directory: {output_dir}",
        directory=output_dir,
        state=state,
    )

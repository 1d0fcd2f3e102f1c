"""The qemu builder's artifact: the files of ``output_directory`` (Packer's ``transcend.qemu``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from imagesmith.core.artifact import FileArtifact

BUILDER_ID = "transcend.qemu"


def make_artifact(output_dir: str, state: Mapping[str, Any]) -> FileArtifact:
    """List every file under ``output_dir``; ``state`` carries diskName/diskType/diskSize/domainType."""
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(output_dir) for name in names)
    return FileArtifact(
        BUILDER_ID,
        files,
        artifact_id="VM",
        description=f"VM files in directory: {output_dir}",
        directory=output_dir,
        state=state,
    )

"""The virtualbox builders' artifact: the files of ``output_directory`` (Packer's ``mitchellh.virtualbox``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from imagesmith.core.artifact import FileArtifact

BUILDER_ID = "mitchellh.virtualbox"


def make_artifact(output_dir: str, state: Mapping[str, Any]) -> FileArtifact:
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(output_dir) for name in names)
    return FileArtifact(
        BUILDER_ID, files, artifact_id="VM", description=f"VM files in directory: {output_dir}",
        directory=output_dir, state=state,
    )  # fmt: skip

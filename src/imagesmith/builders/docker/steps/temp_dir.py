"""Make the host directory shared with the container at ``container_dir``."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile

from imagesmith.builders.docker.state import DockerState
from imagesmith.core.steps import Step


class MakeTempDir(Step[DockerState]):
    """Packer's StepTempDir. The directory lives under ``$PACKER_TMP_DIR`` (else the system temp dir)."""

    async def run(self, state: DockerState) -> None:
        state.ctx.ui.say("Creating a temporary directory for sharing data...")
        parent = os.environ.get("PACKER_TMP_DIR") or None
        if parent:
            os.makedirs(parent, exist_ok=True)
        state.temp_dir = tempfile.mkdtemp(prefix="packer-docker", dir=parent)

    async def cleanup(self, state: DockerState) -> None:
        if state.temp_dir:
            await asyncio.to_thread(shutil.rmtree, state.temp_dir, True)
            state.temp_dir = ""

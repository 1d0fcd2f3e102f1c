"""stepPrepareOutputDir: make ``output_directory``; ``-force`` deletes an old one; a failed build removes it."""

from __future__ import annotations

from imagesmith.builders.qemu.state import QemuState
from imagesmith.steps import output_dir


class PrepareOutputDir(output_dir.PrepareOutputDir[QemuState]):
    step_name = "stepPrepareOutputDir"
    exists_message = "Output directory '{out}' already exists. It must not exist."


KeepOutput = output_dir.KeepOutput[QemuState]

"""StepOutputDir: make ``output_directory``; ``-force`` deletes an old one; a failed build removes it."""

from __future__ import annotations

from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.steps import output_dir


class PrepareOutputDir(output_dir.PrepareOutputDir[VBoxState]):
    step_name = "StepOutputDir"
    exists_message = "Output directory exists: {out}\n\nUse the force flag to delete it prior to building."


KeepOutput = output_dir.KeepOutput[VBoxState]

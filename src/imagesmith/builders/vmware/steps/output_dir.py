"""StepOutputDir: make ``output_directory`` (``-force`` deletes an old one); a failed or
cancelled build removes it again."""

from __future__ import annotations

from imagesmith.builders.vmware.state import VmwareState
from imagesmith.steps import output_dir


class PrepareOutputDir(output_dir.PrepareOutputDir[VmwareState]):
    step_name = "StepOutputDir"
    exists_message = "Output directory '{out}' already exists."
    announce = "Configuring output and export directories..."
    delete_as_message = True


KeepOutput = output_dir.KeepOutput[VmwareState]

"""The ``shell-local`` post-processor: the provisioner's code, run once per artifact.

It always keeps its input artifact and passes it on (Packer: keep by default, forced).
The artifact's ``generated_data`` state fills ``{{ build `ID` }}`` and friends.
"""

from __future__ import annotations

from collections.abc import Mapping

from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.provisioners.shell_local import ShellLocalConfig, run_shell_local
from imagesmith.ui import Ui


def generated_data(artifact: Artifact) -> dict[str, str]:
    """The artifact's ``generated_data`` state as strings (empty when it has none)."""
    data = artifact.state("generated_data")
    if not isinstance(data, Mapping):
        return {}
    return {str(k): str(v) for k, v in data.items()}


class ShellLocalPostProcessor(PostProcessor):
    type_name = "shell-local"
    config_class = ShellLocalConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        await run_shell_local(self.config, ui, self.info, generated_data(artifact))
        return PostProcessResult(artifact, keep=True, force_override=True)


PLUGIN = ShellLocalPostProcessor

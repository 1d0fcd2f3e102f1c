"""The ``shell-local`` post-processor: the provisioner's code, run once per artifact.

It always keeps its input artifact and passes it on (Packer: keep by default, forced).
The artifact's ``generated_data`` state fills ``{{ build `ID` }}`` and friends.
"""

from __future__ import annotations

from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.provisioners.shell_local import ShellLocalConfig, run_shell_local
from imagesmith.ui import Ui


class ShellLocalPostProcessor(PostProcessor):
    type_name = "shell-local"
    config_class = ShellLocalConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        await run_shell_local(self.config, ui, self.info, artifact.generated_data)
        return PostProcessResult(artifact, keep=True, force_override=True)

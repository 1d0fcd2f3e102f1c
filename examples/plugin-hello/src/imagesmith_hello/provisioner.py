"""The ``hello`` provisioner: runs ``echo '<greeting>, <name>!'`` in the machine, through its communicator.

Template keys: ``name`` (required), ``greeting`` (default ``Hello``), ``output`` (a path in the
machine to write the line to as well; default: none).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.template.decode import option
from imagesmith.ui import Ui


@dataclass(frozen=True)
class HelloConfig:
    """Decoded and checked before anything runs; every string may use ``{{ }}``."""

    name: str = option(required=True)
    greeting: str = option("Hello")
    output: str = option("")

    def check(self) -> Iterator[str]:
        if "\n" in self.name or "\n" in self.greeting:
            yield "name and greeting must be one line each"


class HelloProvisioner(Provisioner):
    type_name = "hello"
    config_class = HelloConfig

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        config: HelloConfig = self.config
        if comm is None:
            raise BuildError("hello needs a communicator to run its command")
        command = f"echo {shlex.quote(f'{config.greeting}, {config.name}!')}"
        if config.output:
            command += f" | tee {shlex.quote(config.output)}"
        ui.say(f"Saying hello to {config.name} (build {self.info.build_name})")
        status = await comm.execute(command, stdout=ui.message, stderr=ui.error)
        if status != 0:
            raise BuildError(f"hello: {command} exited with status {status}")

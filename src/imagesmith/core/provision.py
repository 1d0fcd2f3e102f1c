"""The provision hook: run a build's provisioners in order with Packer's meta-options.

Packer wraps each provisioner (``packer/provisioner.go``): ``-debug`` adds a pause before it,
``pause_before`` a sleep, ``timeout`` a deadline and ``max_retries`` a retry loop around those.
The messages are Packer's. Two deliberate differences:

* ``timeout`` also applies when ``pause_before`` is set (Packer silently drops it, #9114);
  the deadline covers the provisioner only, not the pause.
* after the retries are exhausted the *last* error is reported, with the number of attempts
  (Packer returns the first one, because of a shadowed variable).

The builders' :class:`imagesmith.steps.provision.ProvisionStep` calls the hook with the build's
generated data, already completed (``ID``, ``PackerRunUUID``, ``PackerHTTP*``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.core.prepared import PreparedBuild, PreparedProvisioner
from imagesmith.core.steps import ReplacingError
from imagesmith.errors import BuildError, ImagesmithError
from imagesmith.template.engine.gofmt import quote_string
from imagesmith.template.values import format_go_duration
from imagesmith.ui import Ui

if TYPE_CHECKING:
    from imagesmith.layers.session import LayerSession
    from imagesmith.layers.support import LayerSupport

NO_COMMUNICATOR = (
    "No communicator found for provisioners! This is usually because the\n"
    '`communicator` config was set to "none". If you have any provisioners\n'
    "then a communicator is required. Please fix this to continue."
)
CLEANUP_MESSAGE = "Provisioning step had errors: Running the cleanup provisioner, if present..."
TIMEOUT_ERROR = "context canceled"  # what Packer reports for a provisioner stopped by its timeout


class ProvisionHook:
    """Runs a build's provisioners (``ctx.provision``) and its error-cleanup-provisioner."""

    def __init__(
        self, build: PreparedBuild, ui: Ui, *, debug: bool = False, layers: LayerSession | None = None
    ) -> None:
        self.build = build
        self.ui = ui
        self.debug = debug
        self.layers = layers
        self.error: BaseException | None = None
        self.generated = GeneratedData()

    async def provision_layered(
        self, support: LayerSupport, comm: Communicator | None, data: GeneratedData | None
    ) -> None:
        """:meth:`provision` through the layer cache: skip what cached layers already hold."""
        if self.layers is None or not self.build.provisioners:
            await self.provision(comm, data)
            return
        self.generated = GeneratedData() if data is None else data
        try:
            if comm is None:
                raise BuildError(NO_COMMUNICATOR)
            await self.layers.run(support, self.build.provisioners, comm, self.generated, self._run_one)
        except ImagesmithError as exc:
            self.error = exc
            raise

    async def find_layer(self, support: LayerSupport) -> str:
        """The reference of the deepest cached layer the build can start from ("" for none)."""
        if self.layers is None or not self.build.provisioners:
            return ""
        entry = await self.layers.lookup(support, self.build.provisioners)
        return entry.ref if entry is not None else ""

    async def _run_one(self, prepared: PreparedProvisioner, comm: Communicator, data: GeneratedData) -> None:
        self.generated = data
        await run_provisioner(prepared, self.ui, comm, data, debug=self.debug)

    async def provision(self, comm: Communicator | None, data: GeneratedData | None) -> None:
        """Run every provisioner in order; the first error stops the build.

        ``data`` None (a builder without generated data) gives provisioners an empty mapping.
        """
        self.generated = GeneratedData() if data is None else data
        if not self.build.provisioners:
            return
        try:
            if comm is None:
                raise BuildError(NO_COMMUNICATOR)
            for prepared in self.build.provisioners:
                defer = not self.debug and isinstance(comm, Communicator) and may_defer_uploads(prepared)
                if not defer:
                    await flush_uploads(comm, self.ui)
                if defer:
                    comm.defer_uploads = True
                try:
                    await run_provisioner(prepared, self.ui, comm, self.generated, debug=self.debug)
                finally:
                    if defer:
                        comm.defer_uploads = False
            await flush_uploads(comm, self.ui)
        except ImagesmithError as exc:
            self.error = exc
            raise

    async def cleanup_provision(self, comm: Communicator | None, data: GeneratedData | None) -> None:
        """After a provisioning failure: say so, then run the error-cleanup-provisioner if any.

        A failing cleanup provisioner replaces the build's error with Packer's combined message.
        """
        if self.error is None:
            return
        self.ui.say(CLEANUP_MESSAGE)
        prepared = self.build.error_cleanup
        if prepared is None:
            return
        generated = self.generated if data is None else data
        try:
            if comm is None:
                raise BuildError(NO_COMMUNICATOR)
            await run_provisioner(prepared, self.ui, comm, generated, debug=False)
        except ImagesmithError as exc:
            raise ReplacingError(f"Cleanup failed: {exc}. Original Provisioning error: {self.error}") from exc


def may_defer_uploads(prepared: PreparedProvisioner) -> bool:
    """Whether a provisioner's uploads may be held back and sent with the next ones: a ``file``
    provisioner that no retry loop or timeout has to see fail (docs/differences.md)."""
    return prepared.type_name == "file" and prepared.max_retries <= 0 and prepared.timeout <= 0


async def flush_uploads(comm: Communicator, ui: Ui) -> None:
    """Send the uploads the communicator held back; a failure reads as the file provisioner's."""
    if not isinstance(comm, Communicator):  # a stand-in object of a test or a plugin: nothing held
        return
    try:
        await comm.flush()
    except BuildError as exc:
        ui.error(f"Upload failed: {exc}")
        raise


async def run_provisioner(
    prepared: PreparedProvisioner, ui: Ui, comm: Communicator, data: Mapping[str, str], *, debug: bool
) -> None:
    """One provisioner with its wrappers: a -debug pause, then retries around (pause_before, timeout)."""
    provisioner = prepared.make(data)
    if debug:
        with contextlib.suppress(RuntimeError, EOFError):
            await ui.ask("Pausing before the next provisioner . Press enter to continue.")
    try:
        await _attempt(prepared, provisioner, ui, comm, data)
        return
    except ImagesmithError as exc:
        if prepared.max_retries <= 0:
            raise
        error: ImagesmithError = exc
    for left in range(prepared.max_retries, 0, -1):
        ui.say(f"Provisioner failed with {quote_string(str(error))}, retrying with {left} trie(s) left")
        try:
            await _attempt(prepared, provisioner, ui, comm, data)
            return
        except ImagesmithError as exc:
            error = exc
    ui.say("retry limit reached.")
    raise BuildError(f"{error} (after {prepared.max_retries + 1} attempts)") from error


async def _attempt(
    prepared: PreparedProvisioner,
    provisioner: Provisioner,
    ui: Ui,
    comm: Communicator,
    data: Mapping[str, str],
) -> None:
    if prepared.pause_before > 0:
        ui.say(f"Pausing {format_go_duration(prepared.pause_before)} before the next provisioner...")
        await asyncio.sleep(prepared.pause_before)
    if prepared.timeout <= 0:
        await provisioner.provision(ui, comm, data)
        return
    ui.say(f"Setting a {format_go_duration(prepared.timeout)} timeout for the next provisioner...")
    try:
        async with asyncio.timeout(prepared.timeout):
            await provisioner.provision(ui, comm, data)
    except TimeoutError:
        ui.error("Cancelling provisioner after a timeout...")
        raise BuildError(TIMEOUT_ERROR) from None

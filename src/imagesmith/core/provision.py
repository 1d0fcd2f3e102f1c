"""The provision hook: run a build's provisioners in order with Packer's meta-options.

Packer wraps each provisioner (``packer/provisioner.go``): ``-debug`` adds a pause before it,
``pause_before`` a sleep, ``timeout`` a deadline and ``max_retries`` a retry loop around those.
The messages are Packer's. Two deliberate differences:

* ``timeout`` also applies when ``pause_before`` is set (Packer silently drops it, #9114);
  the deadline covers the provisioner only, not the pause.
* after the retries are exhausted the *last* error is reported, with the number of attempts
  (Packer returns the first one, because of a shadowed variable).

The hook also completes the generated data (``ID``, ``PackerRunUUID``, ``PackerHTTP*``) with
Packer's "not implemented" sentinels, so builders pass only what they know.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from imagesmith.core.plugin import Communicator, Provisioner
from imagesmith.core.prepared import PreparedBuild, PreparedProvisioner
from imagesmith.core.steps import ReplacingError, Step
from imagesmith.errors import BuildError, ImagesmithError
from imagesmith.template.values import format_go_duration
from imagesmith.ui import Ui

if TYPE_CHECKING:
    from imagesmith.core.plugin import BuildContext

S = TypeVar("S")

ID_NOT_IMPLEMENTED = "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER"
HTTP_IP_NOT_IMPLEMENTED = "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER"
HTTP_PORT_NOT_IMPLEMENTED = "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER"
HTTP_ADDR_NOT_IMPLEMENTED = "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER"
NO_COMMUNICATOR = (
    "No communicator found for provisioners! This is usually because the\n"
    '`communicator` config was set to "none". If you have any provisioners\n'
    "then a communicator is required. Please fix this to continue."
)
CLEANUP_MESSAGE = "Provisioning step had errors: Running the cleanup provisioner, if present..."
TIMEOUT_ERROR = "context canceled"  # what Packer reports for a provisioner stopped by its timeout


def complete_hook_data(data: Mapping[str, str], run_uuid: str) -> dict[str, str]:
    """Packer's ``PopulateProvisionHookData`` defaults, under what the builder supplied.

    Empty ``data`` means the builder has no generated data at all (Packer's file builder passes
    nil): it stays empty, so ``{{build `ID`}}`` renders ``<no value>`` there, as in Packer.
    """
    out = dict(data)
    if not out:
        return out
    out.setdefault("ID", ID_NOT_IMPLEMENTED)
    out.setdefault("PackerRunUUID", run_uuid)
    ip, port = out.get("PackerHTTPIP"), out.get("PackerHTTPPort")
    if ip and port and "PackerHTTPAddr" not in out:
        out["PackerHTTPAddr"] = f"{ip}:{port}"
    out.setdefault("PackerHTTPIP", HTTP_IP_NOT_IMPLEMENTED)
    out.setdefault("PackerHTTPPort", HTTP_PORT_NOT_IMPLEMENTED)
    out.setdefault("PackerHTTPAddr", HTTP_ADDR_NOT_IMPLEMENTED)
    return out


class ProvisionHook:
    """Runs a build's provisioners (``ctx.provision``) and its error-cleanup-provisioner."""

    def __init__(self, build: PreparedBuild, ui: Ui, *, debug: bool = False) -> None:
        self.build = build
        self.ui = ui
        self.debug = debug
        self.error: BaseException | None = None
        self.generated: dict[str, str] = {}

    async def provision(self, comm: Communicator | None, data: Mapping[str, str]) -> None:
        """Run every provisioner in order; the first error stops the build."""
        self.generated = complete_hook_data(data, self.build.info.run_uuid)
        if not self.build.provisioners:
            return
        try:
            if comm is None:
                raise BuildError(NO_COMMUNICATOR)
            for prepared in self.build.provisioners:
                await run_provisioner(prepared, self.ui, comm, self.generated, debug=self.debug)
        except ImagesmithError as exc:
            self.error = exc
            raise

    async def cleanup_provision(self, comm: Communicator | None, data: Mapping[str, str]) -> None:
        """After a provisioning failure: say so, then run the error-cleanup-provisioner if any.

        A failing cleanup provisioner replaces the build's error with Packer's combined message.
        """
        if self.error is None:
            return
        self.ui.say(CLEANUP_MESSAGE)
        prepared = self.build.error_cleanup
        if prepared is None:
            return
        generated = complete_hook_data(data or self.generated, self.build.info.run_uuid)
        try:
            if comm is None:
                raise BuildError(NO_COMMUNICATOR)
            await run_provisioner(prepared, self.ui, comm, generated, debug=False)
        except ImagesmithError as exc:
            raise ReplacingError(f"Cleanup failed: {exc}. Original Provisioning error: {self.error}") from exc


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
        ui.say(f"Provisioner failed with {_go_quote(str(error))}, retrying with {left} trie(s) left")
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


def _go_quote(text: str) -> str:
    """Go's ``%q`` for the common case (escapes backslashes, quotes and control characters)."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class ProvisionStep(Step[S]):
    """Packer's ``StepProvision``, for any builder's state.

    ``comm`` and ``data`` read the communicator and the builder's generated data (``ID``,
    ``Host``, ...) from the state at run time. On a provisioning failure the cleanup runs the
    error-cleanup-provisioner (also with -on-error=run-cleanup-provisioner).
    """

    is_provision_step = True

    def __init__(
        self,
        ctx: BuildContext,
        comm: Callable[[S], Communicator | None],
        data: Callable[[S], Mapping[str, str]],
    ) -> None:
        self.ctx = ctx
        self.comm = comm
        self.data = data
        self.failed = False

    @property
    def name(self) -> str:
        return "StepProvision"

    async def run(self, state: S) -> None:
        try:
            await self.ctx.provision(self.comm(state), self.data(state))
        except ImagesmithError:
            self.failed = True
            raise

    async def cleanup(self, state: S) -> None:
        if self.failed:
            await self.ctx.cleanup_provision(self.comm(state), self.data(state))

"""Packer's ``StepProvision``: the one provision step every builder puts in its step list."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from imagesmith.core.generated import GeneratedData
from imagesmith.core.steps import Step
from imagesmith.errors import ImagesmithError

if TYPE_CHECKING:
    from imagesmith.core.plugin import BuildContext, Communicator
    from imagesmith.layers.support import LayerSupport


class ProvisionState(Protocol):
    """What the step needs from a builder's state."""

    @property
    def communicator(self) -> Communicator | None: ...

    generated: GeneratedData


S = TypeVar("S", bound=ProvisionState)


def no_data(state: object) -> None:
    """For builders without generated data (Packer's file builder passes nil)."""
    return None


class ProvisionStep(Step[S]):
    """Run the build's provisioners through ``state.communicator``; on failure, the error-cleanup one.

    ``data`` reads the builder's :class:`GeneratedData` from the state (default:
    ``state.generated``; :func:`no_data` for a builder that has none). The step completes it
    (:meth:`GeneratedData.populated`: ``PackerRunUUID``, the not-implemented sentinels) and
    stores the result back in ``state.generated``, as Packer stores ``generated_data``, so the
    artifact carries what the provisioners saw. On a provisioning failure its cleanup runs the
    error-cleanup-provisioner (also with -on-error=run-cleanup-provisioner). ``layers`` gives
    the builder's :class:`~imagesmith.layers.support.LayerSupport`: with the cache on, the
    provisioners then start from the deepest cached layer (docs/layers.md).
    """

    is_provision_step = True

    def __init__(
        self,
        ctx: BuildContext,
        data: Callable[[S], GeneratedData | None] | None = None,
        layers: Callable[[S], LayerSupport] | None = None,
    ) -> None:
        self.ctx = ctx
        self.data = data
        self.layers = layers  # the builder's layer support (docs/layers.md), None if it has none
        self.failed = False

    @property
    def name(self) -> str:
        return "StepProvision"

    def _populate(self, state: S) -> GeneratedData | None:
        data = state.generated if self.data is None else self.data(state)
        if data is None:
            return None
        state.generated = data.populated(self.ctx.info.run_uuid)
        return state.generated

    async def run(self, state: S) -> None:
        try:
            if self.layers is not None and self.ctx.provision_layered is not None:
                await self.ctx.provision_layered(self.layers(state), _communicator(state), self._populate(state))
            else:
                await self.ctx.provision(_communicator(state), self._populate(state))
        except ImagesmithError:
            self.failed = True
            raise

    async def cleanup(self, state: S) -> None:
        if self.failed:
            await self.ctx.cleanup_provision(_communicator(state), self._populate(state))


def _communicator(state: ProvisionState) -> Communicator:
    """The state's communicator, or Packer's ``none`` one: its StepConnect stores that for
    ``communicator: none``, so shell-local and friends run on every builder."""
    from imagesmith.communicator.none import NoneCommunicator

    return state.communicator or NoneCommunicator()

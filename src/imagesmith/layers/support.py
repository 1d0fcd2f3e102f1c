"""The seam between the layer cache and a builder: what a builder implements to get layers.

A builder that can save and restore its machine passes a :class:`LayerSupport` to
:class:`imagesmith.steps.provision.ProvisionStep`; the provision step then runs the provisioners
through the build's :class:`~imagesmith.layers.session.LayerSession`, which asks the support for
layer 0's inputs, restores the deepest cached layer and saves a layer after each provisioner.
Builders without one provision as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from imagesmith.core.generated import GeneratedData
    from imagesmith.core.plugin import Communicator


@dataclass(frozen=True)
class Snapshot:
    """Where a saved layer is (``ref``: an image id, a file name) and how many bytes it adds."""

    kind: str
    ref: str
    size: int = 0


@dataclass(frozen=True)
class Restored:
    """The machine after a restore: the communicator to continue with and its generated data."""

    communicator: Communicator
    generated: GeneratedData | None


class LayerSupport(Protocol):
    """Save and restore the builder's running machine.

    ``kind`` names the entries it writes (``docker-image``); ``base_inputs`` returns what
    determines layer 0 besides the builder type (config fields that shape the machine, the digest
    of its base image); ``snapshot`` saves the running machine as a new layer; ``verify`` says
    whether a stored layer's data is still there; ``restore`` puts the machine in that layer's
    state; ``discard`` deletes a snapshot that did not become an entry. A snapshot's ``ref``
    contains the first 16 hex digits of its key, so the data of a damaged entry can still be
    found and removed.
    """

    kind: str

    async def base_inputs(self) -> Mapping[str, Any]: ...

    async def snapshot(self, key: str) -> Snapshot: ...

    async def verify(self, ref: str) -> bool: ...

    async def restore(self, ref: str) -> Restored: ...

    async def discard(self, snapshot: Snapshot) -> None: ...

"""HCL2 data sources: what a ``data "<type>" "<name>"`` block runs.

A data source class names its frozen config dataclass in ``config_class``; the HCL2 decoder
evaluates the block's body, decodes it into that class (every problem located), constructs the
data source with the config and calls :meth:`DataSource.execute`, whose mapping becomes
``data.<type>.<name>``. Outputs named in ``sensitive_outputs`` are marked sensitive, so they are
shown as ``<sensitive>`` and masked in all output. Data sources are declared as entry points of
the ``imagesmith.datasources`` group (``null`` is built into the decoder, as in Packer's core).

``output_types`` declares every output's type as an HCL type expression (``string``,
``map(string)``, ...): ``validate`` without ``-evaluate-datasources`` does not execute data sources
(as current Packer) and gives their outputs as unknown values of these types, so what uses them is
still checked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, TypeVar

from imagesmith.errors import ImagesmithError

T = TypeVar("T")


class DataSourceError(ImagesmithError):
    """A data source could not produce its outputs (the failing call and its message)."""


class DataSource(ABC):
    """One configured data source; ``execute`` may call remote services and blocks until done."""

    config_class: ClassVar[type]
    #: every output and its HCL type expression
    output_types: ClassVar[Mapping[str, str]]
    #: outputs that hold secrets: marked sensitive in HCL2 and registered with the secret filter
    sensitive_outputs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: Any) -> None:
        self.config = config
        #: the outputs to mark sensitive; ``execute`` may add to it (a value that turns out secret)
        self.marked: set[str] = set(self.sensitive_outputs)

    @abstractmethod
    def execute(self) -> Mapping[str, Any]:
        """The outputs (strings, bools, lists, string maps); raise :class:`DataSourceError`."""


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a private event loop in a worker thread.

    Templates are decoded from synchronous code that may itself run inside an event loop (the
    farm, the API), where ``asyncio.run`` would refuse; a worker thread has no loop of its own.
    """
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="datasource") as pool:
        return pool.submit(asyncio.run, coro).result()

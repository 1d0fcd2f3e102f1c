"""The shared provision step and the none communicator (no machine needed)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imagesmith.communicator.none import NoneCommunicator
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildContext, BuildInfo, Communicator
from imagesmith.errors import BuildError
from imagesmith.steps.provision import ProvisionStep, no_data


@dataclass
class State:
    communicator: Communicator | None = None
    generated: GeneratedData = field(default_factory=lambda: GeneratedData(id="c1"))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Communicator | None, GeneratedData | None]] = []

    async def __call__(self, comm: Communicator | None, data: GeneratedData | None) -> None:
        self.calls.append((comm, data))


def _ctx(hook: Recorder) -> BuildContext:
    info = BuildInfo(build_name="b", builder_type="null", run_uuid="run-1")
    return BuildContext(ui=None, info=info, provision=hook, cleanup_provision=hook)  # type: ignore[arg-type]


def test_the_step_populates_and_stores_the_data() -> None:
    hook, state = Recorder(), State()
    asyncio.run(ProvisionStep[State](_ctx(hook)).run(state))
    comm, data = hook.calls[0]
    assert isinstance(comm, NoneCommunicator)  # Packer's StepConnect stores the none communicator
    assert data is state.generated
    assert dict(state.generated) == {
        "ID": "c1",
        "PackerRunUUID": "run-1",
        "PackerHTTPIP": "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER",
        "PackerHTTPPort": "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER",
        "PackerHTTPAddr": "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER",
    }


def test_a_builder_without_data_passes_none() -> None:
    hook = Recorder()
    asyncio.run(ProvisionStep[State](_ctx(hook), data=no_data).run(State()))
    assert hook.calls[0][1] is None


def test_none_communicator_runs_nothing_and_refuses_transfers() -> None:
    comm = NoneCommunicator()
    assert asyncio.run(comm.execute("false")) == 0
    with pytest.raises(BuildError, match="Upload is not implemented when communicator = 'none'"):
        asyncio.run(comm.upload("/x", b"data"))
    with pytest.raises(BuildError, match="DownloadDir is not implemented"):
        asyncio.run(comm.download_dir("/x", Path("/tmp")))


def test_mock_communicator_accepts_transfers() -> None:
    comm = NoneCommunicator(accept_transfers=True)
    asyncio.run(comm.upload("/x", b"data"))
    asyncio.run(comm.download("/x", Path("/nonexistent/never-written")))
    assert not Path("/nonexistent/never-written").exists()

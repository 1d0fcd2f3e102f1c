"""The layer session's decisions with a recording layer support (no daemon): what reruns, what is saved."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imagesmith.communicator.none import NoneCommunicator
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import Communicator
from imagesmith.core.prepared import PreparedProvisioner
from imagesmith.layers.session import LayerSession
from imagesmith.layers.store import LayerStore
from imagesmith.layers.support import Restored, Snapshot
from imagesmith.ui import Ui


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append(message)

    def machine(self, kind: str, *args: str, target: str = "") -> None:
        self.lines.append(",".join([kind, *args]))


class RecordingSupport:
    """Snapshots are names in a set; ``calls`` records what the session asked."""

    kind = "recording"

    def __init__(self, images: set[str]) -> None:
        self.images = images
        self.calls: list[str] = []

    async def base_inputs(self) -> Mapping[str, Any]:
        return {"image": "base"}

    async def snapshot(self, key: str) -> Snapshot:
        ref = f"snap-{len(self.images)}-{key[:8]}"
        self.images.add(ref)
        self.calls.append("snapshot")
        return Snapshot(self.kind, ref, 1)

    async def verify(self, ref: str) -> bool:
        return ref in self.images

    async def restore(self, ref: str) -> Restored:
        self.calls.append(f"restore {ref}")
        return Restored(NoneCommunicator(), None)

    async def discard(self, snapshot: Snapshot) -> None:
        self.images.discard(snapshot.ref)


def provisioners(*inlines: str, types: Mapping[int, str] | None = None) -> list[PreparedProvisioner]:
    def never(data: Mapping[str, str]) -> Any:
        raise AssertionError("the session runs provisioners through run_one")

    out = []
    for i, inline in enumerate(inlines):
        type_name = (types or {}).get(i, "shell")
        out.append(PreparedProvisioner(type_name, never, key_config={"inline": [inline]}))
    return out


def build(
    root: Path, provs: list[PreparedProvisioner], images: set[str], mode: str = "readwrite", force: bool = False
) -> tuple[list[str], RecordingSupport, RecordingUi]:
    ran: list[str] = []
    ui = RecordingUi()
    support = RecordingSupport(images)
    session = LayerSession(LayerStore(root), ui, builder_type="t", mode=mode, force=force, run_uuid="u")

    async def run_one(prepared: PreparedProvisioner, comm: Communicator, data: GeneratedData) -> None:
        ran.append(prepared.key_config["inline"][0])

    asyncio.run(session.run(support, provs, NoneCommunicator(), GeneratedData(), run_one))
    return ran, support, ui


def test_miss_hit_and_partial_hit(tmp_path: Path) -> None:
    images: set[str] = set()
    provs = provisioners("a", "b", "c")
    assert build(tmp_path, provs, images)[0] == ["a", "b", "c"]
    ran, support, ui = build(tmp_path, provs, images)
    assert ran == [] and support.calls[0].startswith("restore ")
    assert any(line.startswith("Reusing layer 3/3 (cached ") for line in ui.lines)
    assert any(line.startswith("layer-reused,3,3,") for line in ui.lines)
    assert build(tmp_path, provisioners("a", "b", "changed"), images)[0] == ["changed"]
    assert build(tmp_path, provisioners("new", "b", "c"), images)[0] == ["new", "b", "c"]


def test_read_mode_saves_nothing_and_force_reuses_nothing(tmp_path: Path) -> None:
    images: set[str] = set()
    ran, support, _ = build(tmp_path, provisioners("a", "b"), images, mode="read")
    assert ran == ["a", "b"] and "snapshot" not in support.calls
    build(tmp_path, provisioners("a", "b"), images)
    ran, support, _ = build(tmp_path, provisioners("a", "b"), images, force=True)
    assert ran == ["a", "b"] and not any(c.startswith("restore") for c in support.calls)


def test_an_uncacheable_provisioner_ends_the_chain(tmp_path: Path) -> None:
    images: set[str] = set()
    provs = provisioners("a", "local", "c", types={1: "shell-local"})
    build(tmp_path, provs, images)
    ran, support, ui = build(tmp_path, provs, images)
    assert ran == ["local", "c"]
    assert support.calls.count("snapshot") == 0  # nothing after the chain's end is saved
    assert any("Layer 2/3 and later are not cached: shell-local" in line for line in ui.lines)


def test_a_layer_whose_data_is_gone_is_reported_and_rebuilt(tmp_path: Path) -> None:
    images: set[str] = set()
    provs = provisioners("a", "b")
    build(tmp_path, provs, images)
    images.discard(max(images))  # layer 2's snapshot (the later name) disappears
    ran, _, ui = build(tmp_path, provs, images)
    assert ran == ["b"]
    assert any("its data is missing" in line for line in ui.lines)

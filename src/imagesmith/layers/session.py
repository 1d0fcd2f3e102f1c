"""Run a build's provisioners from the deepest cached layer, saving a layer after each one.

The build's :class:`~imagesmith.core.provision.ProvisionHook` hands the provisioners to
:meth:`LayerSession.run` when the builder offers a :class:`~imagesmith.layers.support.LayerSupport`.
Modes (``-cache``): ``off`` never gets here; ``read`` reuses layers but writes none;
``readwrite`` does both. ``-force`` reuses nothing but still writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildInfo, Communicator
from imagesmith.core.prepared import PreparedProvisioner
from imagesmith.layers.keys import base_key, provisioner_key, uncacheable_reason
from imagesmith.layers.store import CorruptEntry, Entry, LayerStore
from imagesmith.layers.support import LayerSupport, Snapshot
from imagesmith.log import logger
from imagesmith.ui import Ui

MODES = ("off", "read", "readwrite")

RunOne = Callable[[PreparedProvisioner, Communicator, GeneratedData], Awaitable[None]]


@dataclass(frozen=True)
class Plan:
    """``keys[k]`` names layer k (0 = before the first provisioner); None past the cacheable chain."""

    keys: list[str | None]
    reasons: list[str]  # per provisioner: why it is not cached ("" when it is)


def format_age(seconds: float) -> str:
    """``12 s``, ``5 min``, ``2 h``, ``3 d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(max(seconds, 0))} s"


class LayerSession:
    """One build's use of the layer cache."""

    def __init__(
        self,
        store: LayerStore,
        ui: Ui,
        *,
        builder_type: str,
        build_name: str = "",
        mode: str,
        force: bool,
        run_uuid: str,
    ) -> None:
        self.store = store
        self.ui = ui
        self.builder_type = builder_type
        self.build_name = build_name  # provisioners see it (PACKER_BUILD_NAME), so it is in layer 0's key
        self.mode = mode
        self.force = force
        self.run_uuid = run_uuid
        self._found: tuple[Plan, int, Entry | None] | None = None
        self._lock = contextlib.ExitStack()

    async def plan(self, support: LayerSupport, provisioners: Sequence[PreparedProvisioner]) -> Plan:
        inputs = await support.base_inputs()
        keys: list[str | None] = [base_key(self.builder_type, {"build_name": self.build_name, **inputs})]
        reasons: list[str] = []
        for prepared in provisioners:
            reason = uncacheable_reason(prepared.type_name, prepared.key_config, prepared.cache)
            previous = keys[-1]
            reasons.append(reason)
            if previous is None or reason:
                keys.append(None)
                continue
            keys.append(
                await asyncio.to_thread(
                    provisioner_key, previous, prepared.type_name, prepared.key_config, prepared.cache_key_extra
                )
            )
        return Plan(keys, reasons)

    async def lookup(self, support: LayerSupport, provisioners: Sequence[PreparedProvisioner]) -> Entry | None:
        """Plan the keys and find the deepest usable layer (once); from here until :meth:`close`
        the build holds the cache's shared lock, so no prune removes that layer meanwhile."""
        if self._found is None:
            plan = await self.plan(support, provisioners)
            self._lock.enter_context(
                self.store.using(on_wait=lambda: self.ui.say("Waiting for a cache prune or clear to finish..."))
            )
            start, entry = (0, None) if self.force else await self.find(support, plan)
            self._found = (plan, start, entry)
            if entry is not None:
                age = format_age(time.time() - entry.created)
                self.ui.say(f"Reusing layer {start}/{len(provisioners)} (cached {age} ago)")
                self.ui.machine("layer-reused", str(start), str(len(provisioners)), entry.key, str(int(entry.created)))
                self.store.touch(entry.key)
        return self._found[2]

    def close(self) -> None:
        """Release the cache for prune and clear."""
        self._lock.close()

    async def run(
        self,
        support: LayerSupport,
        provisioners: Sequence[PreparedProvisioner],
        comm: Communicator,
        data: GeneratedData,
        run_one: RunOne,
    ) -> None:
        """Restore the deepest usable layer, then run and save the provisioners after it."""
        try:
            entry = await self.lookup(support, provisioners)
            assert self._found is not None
            plan, start, _ = self._found
            if entry is not None:
                restored = await support.restore(entry.ref)
                comm = restored.communicator
                if restored.generated is not None:
                    data = restored.generated.populated(self.run_uuid)
            for index in range(start, len(provisioners)):
                await run_one(provisioners[index], comm, data)
                self._say_uncached(plan, index, len(provisioners))
                key = plan.keys[index + 1]
                if key is not None and self.mode == "readwrite":
                    await self.save(support, key, index + 1, provisioners[index].type_name)
        finally:
            self.close()

    def _say_uncached(self, plan: Plan, index: int, total: int) -> None:
        reason = plan.reasons[index]
        if reason and (index == 0 or plan.keys[index] is not None):  # said once, where the chain ends
            self.ui.message(f"Layer {index + 1}/{total} and later are not cached: {reason}")

    async def find(self, support: LayerSupport, plan: Plan) -> tuple[int, Entry | None]:
        """The deepest layer (> 0) with a usable entry; damaged ones are reported and dropped."""
        for position in range(len(plan.keys) - 1, 0, -1):
            key = plan.keys[position]
            if key is None:
                continue
            entry = await self._read(support, key)
            if entry is None:
                continue
            if entry.kind != support.kind or not await support.verify(entry.ref):
                self.ui.error(f"Warning: ignoring cache entry {key[:12]} of layer {position}: its data is missing")
                self.store.remove(key)
                if entry.kind == support.kind and key[:16] in entry.ref:
                    await self._discard(support, Snapshot(support.kind, entry.ref))  # what is left of it
                continue
            return position, entry
        return 0, None

    async def _read(self, support: LayerSupport, key: str) -> Entry | None:
        try:
            return self.store.read(key)
        except CorruptEntry as exc:
            self.ui.error(f"Warning: ignoring corrupted cache entry {key[:12]}: {exc}")
        ref = self.store.read_ref(key)
        self.store.remove(key)
        if ref and key[:16] in ref:  # only data named after this key: the rest of the entry is not trusted
            await self._discard(support, Snapshot(support.kind, ref))
        return None

    async def save(self, support: LayerSupport, key: str, position: int, provisioner: str) -> None:
        """Snapshot the machine as layer ``position``; an interruption leaves no entry behind."""
        self.ui.message(f"Saving layer {position} ({provisioner})...")
        snap = await support.snapshot(key)
        published = False
        try:
            entry = Entry(
                key=key,
                kind=snap.kind,
                ref=snap.ref,
                builder=self.builder_type,
                position=position,
                provisioner=provisioner,
                created=time.time(),
                size=snap.size,
            )
            published = await asyncio.to_thread(self._publish, entry)
        finally:
            if not published:
                await asyncio.shield(self._discard(support, snap))
        if not published:
            self.ui.message(f"Layer {position} was saved by another build meanwhile; using that one")

    def _publish(self, entry: Entry) -> bool:
        with self.store.writing(entry.key):
            try:
                if self.store.read(entry.key) is not None:
                    return False  # another build wrote it first
            except CorruptEntry:
                self.store.remove(entry.key)
            return self.store.write(entry)

    async def _discard(self, support: LayerSupport, snap: Snapshot) -> None:
        try:
            await support.discard(snap)
        except Exception as exc:  # a failed clean-up of a spare snapshot must not fail the build
            logger.debug("discarding layer snapshot %s: %s", snap.ref, exc)


def make_layer_session(info: BuildInfo, ui: Ui) -> LayerSession | None:
    """The build's session, or None with ``-cache=off``."""
    if info.cache == "off":
        return None
    return LayerSession(
        LayerStore(),
        ui,
        builder_type=info.builder_type,
        build_name=info.build_name,
        mode=info.cache,
        force=info.force,
        run_uuid=info.run_uuid,
    )

"""The qemu builder's layer support: a layer is the running machine's disk and memory.

Saving layer k (docs/layers.md): QMP ``stop``; ``blockdev-snapshot-sync`` puts a new overlay on
top of the disk, so the old top (what changed since layer k-1) becomes read-only; ``migrate`` to
``exec:cat > ram`` writes the memory and device state; ``cont``. The old top is then copied into
the cache with its backing pointed at layer k-1's copy (``../<ref>/disk.qcow2``), and the entry's
directory appears by one ``rename``. Restoring starts QEMU with ``-incoming`` from the saved
memory on a fresh overlay of the layer's disk: the guest continues where it was, no reboot.

Layer data lives in ``<IMAGESMITH_CACHE_DIR>/qemu/<ref>/`` (``disk.qcow2``, ``ram``,
``meta.json``); a layer's disk needs its parents', so ``verify`` checks the whole chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from imagesmith.bootcommand.qmp import QmpClient, QmpError
from imagesmith.builders.qemu.config import QemuConfig
from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.keys import wants_temporary_key
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ImagesmithError
from imagesmith.layers.keys import hash_file, hash_path, to_plain
from imagesmith.layers.store import CorruptEntry, LayerStore, default_root
from imagesmith.layers.support import Restored, Snapshot
from imagesmith.run import run

KIND = "qemu-snapshot"
DISK = "disk.qcow2"
RAM = "ram"
META = "meta.json"
MIGRATE_TIMEOUT = 1800.0  # seconds; only bounds a stuck migration
_REF = re.compile(r"^[0-9a-f]{16,64}-[0-9a-f]{8}$")

#: config fields that do not shape the machine before the first provisioner (left out of layer 0's key)
NOT_IN_KEY = frozenset(
    {
        "output_directory", "shutdown_command", "shutdown_timeout", "skip_compaction", "disk_compression",
        "qemu_img_args", "headless", "display", "use_default_display", "vnc_bind_address", "vnc_use_password",
        "vnc_port_min", "vnc_port_max", "http_port_min", "http_port_max", "http_bind_address", "qmp_enable",
        "qmp_socket_path", "host_port_min", "host_port_max", "ssh_host_port_min", "ssh_host_port_max",
        "ssh_timeout", "ssh_wait_timeout", "ssh_handshake_attempts", "layer_restore_command", "iso_url",
        "iso_urls", "iso_target_path", "iso_target_extension", "iso_checksum", "iso_skip_cache", "http_directory",
    }
)  # fmt: skip


def unsupported_reason(cfg: QemuConfig) -> str:
    """Why this build cannot save layers ("" when it can)."""
    if cfg.format != "qcow2":
        return f'the qemu builder saves layers only for "format": "qcow2" (this build uses {cfg.format})'
    if cfg.disk_additional_size:
        return "the qemu builder saves layers only for a single disk (disk_additional_size is set)"
    if cfg.communicator == "none":
        return 'there is no communicator ("communicator": "none")'
    if wants_temporary_key(cfg):
        return "the build logs in with a temporary SSH key, which a restored guest would not know"
    return ""


def ram_codec() -> str:
    """``zstd`` when it is installed (a guest's memory shrinks to about 40 %), else ``raw``."""
    return "zstd" if shutil.which("zstd") else "raw"


def save_command(path: Path) -> str:
    """The shell command QEMU's ``exec:`` migration writes the memory through."""
    quoted = shlex.quote(str(path))
    return f"zstd -1 -q -T2 -o {quoted}" if ram_codec() == "zstd" else f"cat > {quoted}"


def load_command(path: Path, codec: str) -> str:
    quoted = shlex.quote(str(path))
    return f"zstd -d -q -c {quoted}" if codec == "zstd" else f"cat {quoted}"


def data_root() -> Path:
    return default_root().absolute() / "qemu"


def layer_dir(ref: str) -> Path:
    """The data directory of layer ``ref``; refuses a name that is not one imagesmith makes."""
    if not _REF.match(ref):
        raise ImagesmithError(f"not a qemu layer reference: {ref!r}")
    return data_root() / ref


async def remove_layer_data(ref: str) -> None:
    """``imagesmith cache prune/clear``: delete a layer's files."""
    with contextlib.suppress(ImagesmithError):
        await asyncio.to_thread(shutil.rmtree, layer_dir(ref), True)


def remove_orphans(refs: Iterable[str]) -> None:
    """Under the cache's exclusive lock (no build runs): delete layer files no entry names, and
    work files of builds killed hard."""
    keep = set(refs)
    with contextlib.suppress(FileNotFoundError):
        for item in data_root().iterdir():
            if item.name not in keep:
                shutil.rmtree(item, ignore_errors=True)


async def wait_migration(qmp: QmpClient, what: str) -> None:
    """Poll ``query-migrate`` until the migration ``what`` completes; raise if it fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MIGRATE_TIMEOUT
    while True:
        status = await qmp.execute("query-migrate")
        state = status.get("status", "") if isinstance(status, dict) else ""
        if state == "completed":
            return
        if state in ("failed", "cancelled"):
            raise fail(f"QEMU could not {what}: {status.get('error-desc', state)}")
        if loop.time() > deadline:
            raise fail(f"QEMU could not {what} within {MIGRATE_TIMEOUT:g} s")
        await asyncio.sleep(0.05)


async def find_device(qmp: QmpClient, path: str) -> str:
    """The QMP block device whose image is ``path``."""
    for block in await qmp.execute("query-block"):
        inserted = block.get("inserted") or {}
        if inserted.get("file") == path or (inserted.get("image") or {}).get("filename") == path:
            return str(block.get("device") or inserted.get("node-name"))
    raise fail(f"QEMU has no block device for the disk {path}")


class QemuLayers:
    """:class:`~imagesmith.layers.support.LayerSupport` for the qemu builder's state."""

    kind = KIND

    def __init__(self, state: QemuState) -> None:
        self.state = state

    async def base_inputs(self) -> Mapping[str, Any]:
        """The config fields that shape the machine, and the contents of what it boots and reads."""
        cfg = self.state.config
        plain = to_plain(cfg)
        config = {k: v for k, v in plain.items() if k not in NOT_IN_KEY}
        return {
            "config": config,
            "iso": await asyncio.to_thread(_hash_if_file, self.state.iso_path),
            "http": await asyncio.to_thread(_hash_if_exists, cfg.http_directory),
            "floppy": [await asyncio.to_thread(_hash_if_exists, p) for p in [*cfg.floppy_files, *cfg.floppy_dirs]],
            "cd": [await asyncio.to_thread(_hash_if_exists, p) for p in cfg.cd_files],
        }

    async def snapshot(self, key: str) -> Snapshot:
        """Save the running machine: disk delta and memory, into a new layer directory."""
        state = self.state
        layer = state.layer
        assert state.qmp is not None
        ref = f"{key[:40]}-{secrets.token_hex(4)}"
        root = data_root()
        tmp = root / f".tmp-{ref}"
        await asyncio.to_thread(tmp.mkdir, parents=True)
        try:
            old = layer.top or state.disk_paths[0]
            if not layer.device:
                layer.device = await find_device(state.qmp, old)
            layer.count += 1
            new = str(Path(layer.work_dir) / f"top-{layer.count}.qcow2")
            await state.qmp.execute("stop")
            try:
                await state.qmp.execute(
                    "blockdev-snapshot-sync", {"device": layer.device, "snapshot-file": new, "format": "qcow2"}
                )
                layer.top = new
                await state.qmp.execute("migrate", {"uri": f"exec:{save_command(tmp / RAM)}"})
                await wait_migration(state.qmp, "save the machine's memory")
            finally:
                with contextlib.suppress(QmpError, OSError):
                    await state.qmp.execute("cont")
            await self._store_disk(old, tmp)
            size = await asyncio.to_thread(_tree_size, tmp)
            await asyncio.to_thread(os.rename, tmp, root / ref)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, tmp, True))
            raise
        layer.parent = ref
        return Snapshot(KIND, ref, size)

    async def _store_disk(self, old: str, tmp: Path) -> None:
        """The old top's copy, backed by the parent layer's disk; a full copy when there is none."""
        parent = self.state.layer.parent
        disk = str(tmp / DISK)
        if parent and (data_root() / parent / DISK).exists():
            await run(["cp", "--reflink=auto", "--sparse=always", old, disk], what="cp")
            backing = f"../{parent}/{DISK}"
            await run(["qemu-img", "rebase", "-u", "-f", "qcow2", "-b", backing, "-F", "qcow2", disk],
                      what="qemu-img rebase")  # fmt: skip
        else:
            parent = ""
            await run(["qemu-img", "convert", "-O", "qcow2", old, disk], what="qemu-img convert")
        meta = {"parent": parent, "ram_size": (tmp / RAM).stat().st_size, "ram_codec": ram_codec()}
        await asyncio.to_thread((tmp / META).write_text, json.dumps(meta))

    async def verify(self, ref: str) -> bool:
        """The layer's files are there, its memory file is whole and its disk's backing chain opens."""
        try:
            where = layer_dir(ref)
            meta = json.loads((where / META).read_text())
            if (where / RAM).stat().st_size != meta["ram_size"]:
                return False
            await run(["qemu-img", "info", "--backing-chain", "--output=json", str(where / DISK)],
                      what="qemu-img info")  # fmt: skip
        except (ImagesmithError, OSError, ValueError, KeyError, TypeError):
            return False
        return True

    async def prepare(self, ref: str) -> None:
        """Before QEMU starts: a fresh overlay on the layer's disk, and ``-incoming`` from its memory."""
        state = self.state
        where = layer_dir(ref)
        top = str(Path(state.layer.work_dir) / "top-0.qcow2")
        await run(["qemu-img", "create", "-f", "qcow2", "-b", str(where / DISK), "-F", "qcow2", top],
                  what="qemu-img create")  # fmt: skip
        state.disk_paths[0] = top
        state.layer.top = top
        state.layer.parent = ref
        state.layer.restored = ref
        meta = json.loads(await asyncio.to_thread((where / META).read_text))
        state.incoming = f"exec:{load_command(where / RAM, meta.get('ram_codec', 'raw'))}"

    async def restore(self, ref: str) -> Restored:
        """The VM already runs from ``ref`` (:class:`FindCachedLayer`); run the restore hook."""
        state = self.state
        if ref != state.layer.restored or state.communicator is None:
            raise fail(f"the qemu builder can only continue from the layer it started from, not {ref}")
        for command in state.config.layer_restore_command:
            state.ctx.ui.say(f"Running layer_restore_command: {command}")
            status = await state.communicator.execute(command, stdout=state.ctx.ui.message, stderr=state.ctx.ui.error)
            if status != 0:
                raise fail(f"layer_restore_command {command!r} exited with status {status}")
        return Restored(state.communicator, None)

    async def discard(self, snapshot: Snapshot) -> None:
        """Delete an unpublished snapshot; when another build saved the same layer first, the next
        layer is backed by that build's copy (without one, the next layer gets a full disk copy)."""
        if self.state.layer.parent == snapshot.ref:
            self.state.layer.parent = await asyncio.to_thread(published_ref, snapshot.ref)
        await remove_layer_data(snapshot.ref)


def published_ref(ref: str) -> str:
    """The ref of the published entry for the layer ``ref`` was saved as ("" if none)."""
    store = LayerStore()
    prefix = ref.rpartition("-")[0]
    for key in store.entry_keys():
        if key.startswith(prefix):
            with contextlib.suppress(CorruptEntry):
                entry = store.read(key)
                if entry is not None and entry.kind == KIND and entry.ref != ref:
                    return entry.ref
    return ""


def _hash_if_file(path: str) -> str:
    return hash_file(Path(path)) if path and os.path.isfile(path) else path


def _hash_if_exists(path: str) -> str:
    return hash_path(Path(path)) if path and os.path.exists(path) else path


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.iterdir() if p.is_file())


class FindCachedLayer(Step[QemuState]):
    """Before QEMU starts: with a cached layer, boot from its disk and memory instead of the ISO."""

    async def run(self, state: QemuState) -> None:
        reason = unsupported_reason(state.config)
        if reason:
            state.ctx.ui.message(f"Provisioner layers are not cached: {reason}")
            return
        assert state.ctx.find_layer is not None
        ref = await state.ctx.find_layer(QemuLayers(state))  # from here the build holds the cache's lock
        await asyncio.to_thread(data_root().mkdir, parents=True, exist_ok=True)
        state.layer.work_dir = await asyncio.to_thread(tempfile.mkdtemp, prefix=".run-", dir=data_root())
        if ref:
            state.ctx.ui.say(f"Starting the VM from cached layer {ref}...")
            await QemuLayers(state).prepare(ref)

    async def cleanup(self, state: QemuState) -> None:
        if state.layer.work_dir:
            await asyncio.to_thread(shutil.rmtree, state.layer.work_dir, True)


class ResumeCachedLayer(Step[QemuState]):
    """After QEMU starts from a layer: wait for its memory to load, then let the guest run."""

    async def run(self, state: QemuState) -> None:
        if not state.layer.restored:
            return
        assert state.qmp is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MIGRATE_TIMEOUT
        while (await state.qmp.execute("query-status")).get("status") == "inmigrate":
            if loop.time() > deadline:
                raise fail(f"QEMU did not load the layer's memory within {MIGRATE_TIMEOUT:g} s")
            await asyncio.sleep(0.05)
        await state.qmp.execute("cont")
        state.ctx.ui.message("The VM continues from the cached layer")


class FlattenDisk(Step[QemuState]):
    """After shutdown, without stepConvertDisk: write the layered disk chain into the output disk."""

    async def run(self, state: QemuState) -> None:
        top = state.layer.top
        if not top:
            return
        target = state.disk_path + ".flatten"
        try:
            await run(["qemu-img", "convert", "-O", "qcow2", top, target], what="qemu-img convert")
            await asyncio.to_thread(os.replace, target, state.disk_path)
        finally:
            await asyncio.to_thread(_unlink, target)
        state.layer.top = ""


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)

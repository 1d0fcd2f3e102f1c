"""The ``manifest`` post-processor: record each build's artifact in a JSON file (Packer 1.6.6).

Every build of one run appends ``{name, builder_type, build_time, files, artifact_id,
packer_run_uuid, custom_data}`` to ``builds`` and sets ``last_run_uuid``. With ``-force`` a file
written by another run is truncated first. Concurrent builds serialise through
``<output>.lock`` (created exclusively; three tries, 0/200/400 ms apart, as Packer). The JSON is
written as Go's ``json.MarshalIndent`` writes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.log import logger
from imagesmith.template.decode import option
from imagesmith.ui import Ui

RENDER_ERROR = "Error processing command: "
#: The lock file only guards against other processes. In this process, the builds of one run wait
#: for each other on their loop's lock, and the read-change-write of the file holds a thread lock,
#: since two API runs (two threads, two event loops) may write one manifest at once.
_FILE_LOCK = threading.Lock()
_LOOP_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
_LOOP_LOCKS_GUARD = threading.Lock()


def _loop_lock() -> asyncio.Lock:
    with _LOOP_LOCKS_GUARD:
        return _LOOP_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def _update_locked(path: str, entry: Mapping[str, Any], run_uuid: str, force: bool) -> None:
    with _FILE_LOCK:
        update_manifest(path, entry, run_uuid, force)


@dataclass(frozen=True)
class ManifestConfig:
    output: str = option("packer-manifest.json")
    strip_path: bool = option(False)
    strip_time: bool = option(False)
    custom_data: dict[str, str] | None = option(None)


def go_json(value: Any) -> str:
    """``json.MarshalIndent(v, "", "  ")``: Go escapes ``<``, ``>`` and ``&``."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def make_entry(config: ManifestConfig, artifact: Artifact, info: Any, custom: dict[str, str] | None) -> dict[str, Any]:
    """One ``builds[]`` element, fields in Packer's order (``build_time`` omitted when 0)."""
    files = []
    for name in artifact.files:
        size = os.path.getsize(name) if os.path.exists(name) else 0
        files.append({"name": os.path.basename(name) if config.strip_path else name, "size": size})
    entry: dict[str, Any] = {"name": info.build_name, "builder_type": info.builder_type}
    if not config.strip_time:
        entry["build_time"] = int(time.time())
    entry["files"] = files or None
    entry["artifact_id"] = artifact.id
    entry["packer_run_uuid"] = info.run_uuid
    entry["custom_data"] = custom
    return entry


async def lock_file(path: str) -> bool:
    """Create ``path`` exclusively; Packer's three tries. False when it stayed locked (Packer goes on)."""
    for attempt in range(3):
        await asyncio.sleep(attempt * 0.2)
        try:
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            return True
        except OSError as exc:
            logger.info("Error locking manifest file %s for reading and writing; will sleep and retry: %s", path, exc)
    return False


def update_manifest(path: str, entry: Mapping[str, Any], run_uuid: str, force: bool) -> None:
    """Read, append, write (truncating first with -force when another run wrote the file)."""
    try:
        with open(path, encoding="utf-8") as src:
            text = src.read()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise BuildError(f"Unable to open {path} for reading: {go_error('open', path, exc)}") from exc
    manifest: dict[str, Any] = {"builds": None, "last_run_uuid": ""}
    if text:
        try:
            manifest.update(json.loads(text))
        except ValueError as exc:
            raise BuildError(f"Unable to parse content from {path}: {exc}") from exc
    if force and run_uuid != manifest.get("last_run_uuid"):
        manifest = {"builds": None, "last_run_uuid": ""}
    manifest["builds"] = [*(manifest.get("builds") or []), dict(entry)]
    manifest["last_run_uuid"] = run_uuid
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(go_json({"builds": manifest["builds"], "last_run_uuid": manifest["last_run_uuid"]}))
        os.chmod(path, 0o664 & ~_umask())
    except OSError as exc:
        raise BuildError(f"Unable to write {path}: {go_error('open', path, exc)}") from exc


def go_error(op: str, path: str, exc: OSError) -> str:
    """An OSError as Go's ``*PathError`` prints it: ``open x.json: no such file or directory``."""
    reason = (exc.strerror or str(exc)).lower()
    return f"{op} {path}: {reason}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ManifestPostProcessor(PostProcessor):
    type_name = "manifest"
    config_class = ManifestConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        config: ManifestConfig = self.config
        custom = None
        if config.custom_data is not None:
            data = artifact.generated_data
            custom = {k: render_runtime(v, self.info, data, error=RENDER_ERROR) for k, v in config.custom_data.items()}
        entry = make_entry(config, artifact, self.info, custom)
        run_uuid = self.info.run_uuid
        lock = config.output + ".lock"
        async with _loop_lock():
            locked = await lock_file(lock)
            try:
                await asyncio.to_thread(_update_locked, config.output, entry, run_uuid, self.info.force)
            finally:
                if locked:
                    with contextlib.suppress(OSError):
                        os.unlink(lock)
        return PostProcessResult(artifact, keep=True, force_override=True)

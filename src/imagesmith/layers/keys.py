"""Layer keys: content hashes of everything that determines a layer.

Layer 0's key covers the builder type, its rendered config and its inputs (what the builder's
:class:`~imagesmith.layers.support.LayerSupport` reports: a docker image id, an ISO checksum...).
Layer k's key is the hash of layer k-1's key, the provisioner's type, its rendered config (rendered
with Packer's placeholder build data, so a container ID does not change it), the contents of the
local files and directories it uploads or runs, and ``cache_key_extra``. Only hashes are kept:
configs, secrets among them, never leave this module in clear.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

#: bumped when the key recipe changes, so old entries stop matching
KEY_VERSION = "imagesmith-layer-v1"

#: provisioner types whose effect is confined to the machine and whose inputs the key sees
CACHEABLE_TYPES = frozenset(
    {
        "shell",
        "file",
        "ansible-local",
        "puppet-masterless",
        "salt-masterless",
        "chef-solo",
        "sleep",
        "powershell",
        "windows-shell",
        "windows-restart",
    }
)

#: config fields that name local files or directories a provisioner uploads or runs
LOCAL_INPUT_FIELDS = frozenset(
    {
        "source",
        "sources",
        "script",
        "scripts",
        "playbook_file",
        "playbook_dir",
        "playbook_paths",
        "galaxy_file",
        "group_vars",
        "host_vars",
        "role_paths",
        "inventory_file",
        "manifest_file",
        "manifest_dir",
        "module_paths",
        "hiera_config_path",
        "local_state_tree",
        "local_pillar_roots",
        "minion_config",
        "grains_file",
        "cookbook_paths",
        "data_bags_path",
        "roles_path",
        "environments_path",
        "encrypted_data_bag_secret_path",
    }
)


def to_plain(value: Any) -> Any:
    """A JSON-able, order-independent form of a decoded config (dataclasses, enums, paths...)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def hash_value(*parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts``."""
    text = json.dumps([to_plain(p) for p in parts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def base_key(builder_type: str, inputs: Mapping[str, Any]) -> str:
    """Layer 0: the builder's type and the inputs its layer support reports."""
    return hash_value(KEY_VERSION, "base", builder_type, inputs)


def provisioner_key(previous: str, type_name: str, config: Any, extra: str = "") -> str:
    """Layer k from layer k-1's key, the provisioner's rendered config and its local inputs."""
    plain = to_plain(config)
    files = {path: hash_path(Path(path)) for path in local_inputs(plain)}
    return hash_value(KEY_VERSION, previous, type_name, plain, files, extra)


def local_inputs(config: Any) -> list[str]:
    """The existing local paths named by the config's input fields, sorted."""
    found: set[str] = set()
    if isinstance(config, Mapping):
        for name, value in config.items():
            if name in LOCAL_INPUT_FIELDS:
                found.update(p for p in _strings(value) if p and os.path.exists(p))
    return sorted(found)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def hash_path(path: Path) -> str:
    """Content hash of a file, or of a directory tree (relative names, modes, link targets, bytes)."""
    digest = hashlib.sha256()
    for name, entry in _walk(path):
        digest.update(name.encode() + b"\0")
        if entry.is_symlink():
            digest.update(b"L" + os.readlink(entry).encode())
        elif entry.is_dir():
            digest.update(b"D")
        else:
            digest.update(b"F%o" % (entry.stat().st_mode & 0o777))
            digest.update(hash_file(entry).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _walk(path: Path) -> Iterable[tuple[str, Path]]:
    if not path.is_dir() or path.is_symlink():
        return [("", path)]
    out: list[tuple[str, Path]] = [("", path)]
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs + files):
            full = Path(root, name)
            out.append((str(full.relative_to(path)), full))
    return sorted(out)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def uncacheable_reason(type_name: str, config: Any, cache: bool) -> str:
    """Why a provisioner ends the cacheable chain ("" when it does not)."""
    if not cache:
        return '"cache": false'
    if type_name not in CACHEABLE_TYPES:
        return f"{type_name} may act outside the machine or read inputs imagesmith cannot see"
    plain = to_plain(config)
    if type_name == "file" and isinstance(plain, Mapping) and plain.get("direction") == "download":
        return "file with direction download writes on this host"
    return ""

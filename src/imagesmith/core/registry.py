"""The one registry of plugins, keyed by kind and type name.

Built-in plugins are found by name: type ``shell-local`` of kind ``provisioner`` is the module
``imagesmith.provisioners.shell_local`` and its ``PLUGIN`` attribute; a builder may be a package
(``imagesmith.builders.qemu``). Modules are imported only when a template uses them. Third-party
plugins come in through the entry-point groups ``imagesmith.builders``, ``imagesmith.provisioners``
and ``imagesmith.post_processors``.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Literal

from imagesmith.core.plugin import Plugin

Kind = Literal["builder", "provisioner", "post-processor"]
_PACKAGES: dict[str, str] = {
    "builder": "imagesmith.builders",
    "provisioner": "imagesmith.provisioners",
    "post-processor": "imagesmith.post_processors",
}
_GROUPS: dict[str, str] = {k: v for k, v in _PACKAGES.items()}


def _module_name(name: str) -> str:
    return name.replace("-", "_")


@functools.cache
def lookup(kind: Kind, name: str) -> type[Plugin] | None:
    """The plugin class for ``name``, or None if imagesmith has no such plugin."""
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        return None
    try:
        module = importlib.import_module(f"{_PACKAGES[kind]}.{_module_name(name)}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(_PACKAGES[kind]):
            return _from_entry_points(kind, name)
        raise
    plugin = getattr(module, "PLUGIN", None)
    return plugin if isinstance(plugin, type) else None


def _from_entry_points(kind: Kind, name: str) -> type[Plugin] | None:
    from importlib.metadata import entry_points  # imported here: costs start-up time

    for ep in entry_points(group=_GROUPS[kind]):
        if ep.name == name:
            loaded = ep.load()
            return loaded if isinstance(loaded, type) else None
    return None


def known(kind: Kind) -> list[str]:
    """Type names available for ``kind`` (built-in and entry points), without importing them."""
    package = importlib.import_module(_PACKAGES[kind])
    names = {m.name.replace("_", "-") for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}
    from importlib.metadata import entry_points

    names |= {ep.name for ep in entry_points(group=_GROUPS[kind])}
    return sorted(names)

"""The one registry of plugins, keyed by kind and the type name templates use.

Every plugin, built-in or not, is declared as an entry point of its kind's group: imagesmith's
own in its ``pyproject.toml``, a third party's in theirs (see docs/plugins.md)::

    [project.entry-points."imagesmith.provisioners"]
    shell-local = "imagesmith.provisioners.shell_local:ShellLocalProvisioner"

A type name nobody declared is unknown, as in Packer (``"shell_local"`` is not ``"shell-local"``).
imagesmith's own declarations win over a third party declaring the same name. The groups are
read once per process, only the group a lookup needs, and a plugin's module is imported only
when a template uses it (see :mod:`imagesmith.core.entry_points` for why the groups are not
read through ``importlib.metadata`` first).
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Literal

from imagesmith.core.entry_points import EntryPoint, read_group
from imagesmith.core.plugin import Builder, Plugin, PostProcessor, Provisioner
from imagesmith.errors import ImagesmithError

if TYPE_CHECKING:
    from imagesmith.datasources import DataSource

Kind = Literal["builder", "provisioner", "post-processor"]

#: Entry-point group of each kind; ``imagesmith.datasources`` holds HCL2 data sources (see lookup_datasource).
GROUPS: dict[str, str] = {
    "builder": "imagesmith.builders",
    "provisioner": "imagesmith.provisioners",
    "post-processor": "imagesmith.post_processors",
    "datasource": "imagesmith.datasources",
}
_BASES: dict[str, type[Plugin]] = {"builder": Builder, "provisioner": Provisioner, "post-processor": PostProcessor}
_OWN_DIST = "imagesmith"


class PluginLoadError(ImagesmithError):
    """A declared plugin could not be imported, or is not a plugin of its kind."""


def unknown_message(kind: Kind, name: str) -> str:
    """Packer 1.6.6's words for a type name no plugin declares."""
    return f"error initializing {kind} '{name}': Unknown {kind} {name}"


@functools.cache
def lookup(kind: Kind, name: str) -> type[Plugin] | None:
    """The plugin class declared as ``name`` in ``kind``'s group, or None if nobody declares it.

    Raises :class:`PluginLoadError` when the declaration points at something that does not import
    or is not a subclass of the kind's base class (Builder, Provisioner, PostProcessor).
    """
    entry = _declared(GROUPS[kind]).get(name) or _declared_by_metadata(GROUPS[kind]).get(name)
    if entry is None:
        return None
    plugin = _load(entry, kind)
    base = _BASES[kind]
    if not isinstance(plugin, type) or not issubclass(plugin, base):
        raise PluginLoadError(
            f"error initializing {kind} '{name}': {name} = {entry.value} (from {entry.dist}) is not a {base.__name__}"
        )
    return plugin


@functools.cache
def lookup_datasource(name: str) -> type[DataSource] | None:
    """The HCL2 data source class declared as ``name``, or None (raises :class:`PluginLoadError` as lookup)."""
    from imagesmith.datasources import DataSource

    group = GROUPS["datasource"]
    entry = _declared(group).get(name) or _declared_by_metadata(group).get(name)
    if entry is None:
        return None
    plugin = _load(entry, "datasource")
    if not isinstance(plugin, type) or not issubclass(plugin, DataSource):
        raise PluginLoadError(
            f"error initializing datasource '{name}': {name} = {entry.value} (from {entry.dist}) is not a DataSource"
        )
    return plugin


def known_datasources() -> list[str]:
    """Every data source type declared, without importing any."""
    group = GROUPS["datasource"]
    return sorted(set(_declared(group)) | set(_declared_by_metadata(group)))


def known(kind: Kind) -> list[str]:
    """Every type name declared for ``kind``, without importing any plugin."""
    return sorted(set(_declared(GROUPS[kind])) | set(_declared_by_metadata(GROUPS[kind])))


@functools.cache
def _declared(group: str) -> dict[str, EntryPoint]:
    entries = read_group(group)
    own = [e for e in entries if e.dist == _OWN_DIST]
    others = [e for e in entries if e.dist != _OWN_DIST]
    out: dict[str, EntryPoint] = {}
    for entry in own + others:
        out.setdefault(entry.name, entry)
    return out


@functools.cache
def _declared_by_metadata(group: str) -> dict[str, EntryPoint]:
    """The group as ``importlib.metadata`` sees it: asked only when the fast reader misses a name."""
    from importlib.metadata import entry_points  # imported here: costs start-up time

    out: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        out.setdefault(ep.name, EntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else "?"))
    return out


def _load(entry: EntryPoint, kind: str) -> object:
    module_name, _, attrs = entry.value.partition(":")
    attrs = attrs.split("[", 1)[0].strip()  # "mod:attr [extra]": extras are pip's business
    try:
        obj: object = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.split(".")):
            obj = getattr(obj, attr)
    except Exception as exc:  # any import-time failure of a third-party plugin is the user's to see
        raise PluginLoadError(
            f"error initializing {kind} '{entry.name}': cannot load {entry.name} = {entry.value}"
            f" (from {entry.dist}): {type(exc).__name__}: {exc}",
            hint=f"reinstall or fix the distribution {entry.dist}",
        ) from exc
    return obj

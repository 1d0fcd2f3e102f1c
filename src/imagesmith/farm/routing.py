"""Which worker may run which build: capabilities, and the Celery queue each one is served on.

A worker announces capabilities (``docker,qemu,kvm``); each capability is a queue
(``imagesmith.<capability>``) and every worker also serves ``imagesmith.any``, where builds that
need nothing from the machine (null, file) go. ``kvm`` implies ``qemu``: a qemu build runs on a
machine that has QEMU, with or without KVM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from imagesmith.errors import UsageError

ANY = "any"
QUEUE_PREFIX = "imagesmith."
_BY_TYPE = {"qemu": "qemu", "docker": "docker", "null": ANY, "file": ANY}
_BY_PREFIX = (("amazon-", "cloud"), ("virtualbox-", "virtualbox"), ("vmware-", "vmware"), ("hyperv-", "hyperv"))
_IMPLIED = {"kvm": ("qemu",)}


def capability_for(builder_type: str) -> str:
    """The capability a build of ``builder_type`` needs (``any`` when it needs none)."""
    if builder_type in _BY_TYPE:
        return _BY_TYPE[builder_type]
    for prefix, capability in _BY_PREFIX:
        if builder_type.startswith(prefix):
            return capability
    return builder_type  # a plugin's builder: a worker must announce the type itself


def queue_for(capability: str) -> str:
    return QUEUE_PREFIX + capability


def queues_for_worker(capabilities: Iterable[str]) -> list[str]:
    """The queues a worker with ``capabilities`` serves, ``imagesmith.any`` first."""
    names = [ANY]
    for capability in capabilities:
        for name in (capability, *_IMPLIED.get(capability, ())):
            if name not in names:
                names.append(name)
    return [queue_for(name) for name in names]


def parse_capabilities(text: str) -> list[str]:
    """``docker,qemu,kvm`` → the list; a name must be a plain word."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise UsageError(f'invalid capability "{name}": use letters, digits, "-" and "_"')
    return names


def parse_routes(values: Iterable[str]) -> dict[str, str]:
    """``-route NAME=CAPABILITY`` flags (each may hold several, comma-separated) → build name → capability."""
    routes: dict[str, str] = {}
    for value in values:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            name, eq, capability = item.partition("=")
            if not eq or not name or not capability:
                raise UsageError(f'invalid -route "{item}": expected BUILD=CAPABILITY, e.g. -route qemu=kvm')
            routes[name] = parse_capabilities(capability)[0]
    return routes


def route_builds(builds: Iterable[tuple[str, str]], routes: Mapping[str, str]) -> dict[str, str]:
    """(build name, builder type) pairs → build name → capability, overrides applied; unknown names refused."""
    table = {name: routes.get(name, capability_for(kind)) for name, kind in builds}
    unknown = sorted(set(routes) - set(table))
    if unknown:
        raise UsageError(f"-route names no build of this run: {', '.join(unknown)}")
    return table

"""``imagesmith init``: check an HCL2 configuration's ``required_plugins`` against installed plugins.

Packer's ``init`` downloads missing plugins; imagesmith never downloads anything. Its plugins are
Python entry points (built in, or from installed distributions: docs/plugins.md), so ``init``
resolves each requirement against them and fails, naming every missing one, when one is absent:

* a requirement ``x = { source = "github.com/hashicorp/x", version = "..." }`` is met by the
  components named ``x`` or ``x-*`` of any kind (``amazon`` → the ``amazon-ebs`` builder);
* a built-in component meets any version constraint (it is imagesmith's own port of the plugin);
  a third party's must have a distribution version the constraint accepts;
* only the ``packer`` blocks are read: variables need no values. ``-upgrade`` and ``-force`` are
  accepted for Packer's command lines and change nothing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from imagesmith.errors import ImagesmithError, TemplateError, UsageError

_OWN_DIST = "imagesmith"
_NO_REQUIREMENTS = """
No plugins requirement found, make sure you reference a Packer config
containing a packer.required_plugins block. See
https://www.packer.io/docs/templates/hcl_templates/blocks/packer
for more info."""


def add_arguments(parser: Any) -> None:
    parser.flag("upgrade", action="store_true", help="Accepted for Packer's command lines; nothing is downloaded.")
    parser.flag("force", action="store_true", help="Accepted for Packer's command lines; nothing is downloaded.")
    parser.add_argument("template", nargs="*", help="the HCL2 file or directory")


@dataclass(frozen=True)
class Component:
    """One installed plugin component: its kind, the name templates use, and its distribution."""

    kind: str
    name: str
    dist: str


def run(options: argparse.Namespace) -> int:
    from imagesmith.hcl2.packer.decode import load_plugin_requirements
    from imagesmith.hcl2.packer.plugins import plugin_name
    from imagesmith.template.hcl2_bridge import check_exists, is_hcl2, problem_of

    path = _template_arg(options)
    if not is_hcl2(path):
        raise ImagesmithError(
            "Packer plugins currently only works with HCL2 configuration templates",
            hint="Please manually install plugins or use a HCL2 configuration that will do that for you.",
        )
    check_exists(path)
    tpl, diags = load_plugin_requirements(path)
    if diags.has_errors():
        raise TemplateError([problem_of(d) for d in diags.errors()])
    if not tpl.required_plugins:
        print(_NO_REQUIREMENTS)
        return 0
    components = installed_components()
    missing = []
    for name, req in sorted(tpl.required_plugins.items()):
        found = [c for c in components if _provides(plugin_name(req.source), c.name)]
        problem = unmet(req.version, found)
        if problem:
            missing.append(f"  {name}: {req.source} {req.version}: {problem}")
        else:
            print(f"{name}: {req.source} {req.version}: {_describe(found)}")
    if missing:
        raise ImagesmithError(
            "Missing plugins\nThe following plugins are required, but not installed:\n" + "\n".join(missing),
            hint="imagesmith does not download plugins: install a Python distribution that declares them "
            "as entry points (docs/plugins.md)",
        )
    return 0


def _template_arg(options: argparse.Namespace) -> str:
    args: list[str] = list(options.template or [])
    if len(args) != 1:
        raise UsageError(
            f"init takes exactly one TEMPLATE argument, got {len(args)}",
            hint="usage: imagesmith init [options] TEMPLATE",
        )
    return args[0]


def installed_components() -> list[Component]:
    """Every declared plugin component of every kind, without importing any."""
    from imagesmith.core.entry_points import read_group
    from imagesmith.core.registry import GROUPS

    return [Component(kind, ep.name, ep.dist) for kind, group in GROUPS.items() for ep in read_group(group)]


def _provides(plugin: str, component: str) -> bool:
    return component == plugin or component.startswith(f"{plugin}-")


def unmet(constraint: str, found: list[Component]) -> str:
    """Why ``found`` does not meet the requirement, or "" when it does."""
    from imagesmith.hcl2.packer.version import check_constraint

    if not found:
        return "no installed builder, provisioner, post-processor or data source provides it"
    if any(c.dist == _OWN_DIST for c in found):
        return ""
    versions = sorted({(c.dist, _dist_version(c.dist)) for c in found})
    if any(check_constraint(constraint, v) for _, v in versions if v):
        return ""
    return "installed " + ", ".join(f"{d} {v or '(no version)'}" for d, v in versions) + " does not satisfy it"


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return ""


def _describe(found: list[Component]) -> str:
    kinds: dict[str, list[str]] = {}
    for c in found:
        kinds.setdefault(c.kind, []).append(c.name)
    parts = "; ".join(f"{kind} {', '.join(sorted(names))}" for kind, names in sorted(kinds.items()))
    dists = sorted({c.dist for c in found})
    origin = "built in" if dists == [_OWN_DIST] else "from " + ", ".join(dists)
    return f"{origin} ({parts})"

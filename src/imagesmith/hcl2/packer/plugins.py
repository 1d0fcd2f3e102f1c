"""``packer { required_plugins { name = { source = "...", version = "..." } } }``, checked as Packer does.

Each entry must be an object with a ``version`` constraint (no pre-releases) and a ``source``
address ``host/namespace/name``; the local name must be lower-case, and nothing else may be set.
The summaries are current Packer's (``hcl2template/types.required_plugins.go``).
"""

from __future__ import annotations

import re

from imagesmith.hcl2.body import ContentAttribute, ContentBlock
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.packer.model import RequiredPlugin
from imagesmith.hcl2.packer.version import check_constraint
from imagesmith.hcl2.types import STRING, ObjectType
from imagesmith.hcl2.values import Value

_DOCS = "https://www.packer.io/docs/templates/hcl_templates/blocks/packer"
_NAME = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_PRERELEASE = re.compile(r"[0-9]-[0-9A-Za-z]")


def decode_required_plugins(block: ContentBlock, diags: Diagnostics) -> dict[str, RequiredPlugin]:
    """The entries of one ``required_plugins`` block; every problem goes to ``diags``."""
    out: dict[str, RequiredPlugin] = {}
    attrs, adiags = block.body.just_attributes()
    diags.extend(adiags)
    for name, attr in attrs.items():
        rng = attr.expr.range
        if not _NAME.fullmatch(name):
            diags.add(
                "Invalid plugin local name",
                f"{name} is an invalid plugin local name: it must be lower-case "
                "letters and digits, separated by single dashes or underscores.",
                rng,
            )
        val = evaluate(attr.expr, EvalContext(), diags)
        if not isinstance(val.type, ObjectType):
            diags.add(
                "Invalid plugin requirement",
                f"'{name} = ...' plugin requirement calls are not possible. You "
                f"must define a whole block. For example:\n{name} = {{\n  source  = "
                f'"github.com/hashicorp/{name}"\n  version = ">= 1.0.0"\n}}',
                attr.range,
            )
            continue
        req = _decode_entry(name, val, attr, diags)
        if req is not None:
            out[name] = req
    return out


def _decode_entry(name: str, val: Value, attr: ContentAttribute, diags: Diagnostics) -> RequiredPlugin | None:
    items = val.items()
    summary, detail = _entry_problem(items)
    if summary:
        # Packer points at the value, but at the whole attribute for a source it cannot parse.
        diags.add(summary, detail, attr.range if summary == "Failed to parse source" else attr.expr.range)
        return None
    return RequiredPlugin(name, items["source"].as_str(), items["version"].as_str(), attr.range)


_NO_VERSION = (
    "No version constraint was set",
    f'The version field must be specified as a string. Ex: `version = ">= 1.2.0, < 2.0.0"`. '
    f"See {_DOCS}#version-constraints for docs",
)
_VERSION_TYPE = (
    "Invalid version constraint",
    f"Version must be specified as a string. See {_DOCS}#version-constraint-syntax for docs.",
)
_VERSION_SYNTAX = (
    "Invalid version constraint",
    f"This string does not use correct version constraint syntax. See {_DOCS}#version-constraint-syntax for docs.",
)
_NO_SOURCE = (
    "No source was set",
    'The source field must be specified as a string. Ex: `source = "coolcloud"`. '
    f"See {_DOCS}#specifying-plugin-requirements for docs",
)
_SOURCE_TYPE = ("Invalid source", 'Source must be specified as a string. For example: source = "coolcloud"')
_EXTRA = (
    "Invalid required_plugins object",
    'required_plugins objects can only contain "version" and "source" attributes.',
)


def _is_string(val: Value | None) -> bool:
    return val is not None and val.type == STRING and not val.is_null and val.is_known


def _entry_problem(items: dict[str, Value]) -> tuple[str, str]:
    """(summary, detail) of what is wrong with a requirement object, or ("", "")."""
    version, source = items.get("version"), items.get("source")
    if version is None:
        return _NO_VERSION
    if not _is_string(version):
        return _VERSION_TYPE
    constraint = version.as_str()
    if check_constraint(constraint, "0.0.0") is None:
        return _VERSION_SYNTAX
    if _PRERELEASE.search(constraint):
        return "Invalid version constraint", f"Unsupported prerelease for constraint {constraint!r}"
    if source is None:
        return _NO_SOURCE
    if not _is_string(source):
        return _SOURCE_TYPE
    problem = source_problem(source.as_str())
    if problem:
        return "Failed to parse source", problem
    if set(items) - {"version", "source"}:
        return _EXTRA
    return "", ""


def source_problem(source: str) -> str:
    """Why ``source`` is not a plugin address like ``github.com/hashicorp/docker``, or ""."""
    errors = []
    if source.startswith("/"):
        errors.append("A source URL must not start with a '/' character.")
    if source.endswith("/"):
        errors.append("A source URL must not end with a '/' character.")
    if source.count("/") < 2:
        errors.append("A source URL must at least contain a host and a path with 2 components")
    if "://" in source:
        errors.append("A source URL must not contain a scheme (e.g. https://).")
    if "?" in source:
        errors.append("A source URL must not contain a query (e.g. ?var=val)")
    if "#" in source:
        errors.append("A source URL must not contain a fragment (e.g. #anchor).")
    if errors:
        listed = "".join(f"* {e}\n" for e in errors)
        return (
            f"The provided source URL is invalid.\nThe following errors have been discovered:\n{listed}\n"
            'A valid source looks like "github.com/hashicorp/happycloud"'
        )
    name = plugin_name(source)
    if name.startswith("packer-plugin-"):
        return (
            f'Plugin source has a type with the prefix "packer-plugin-", which isn\'t valid.\nAlthough that '
            "prefix is often used in the names of version control repositories for Packer plugins, plugin "
            f'source strings should not include it.\n\nDid you mean "{name.removeprefix("packer-plugin-")}"?'
        )
    if not _NAME.fullmatch(name):
        return f'Invalid plugin type "{name}" in source: it must be lower-case letters, digits and dashes'
    return ""


def plugin_name(source: str) -> str:
    """The plugin's type name: the last part of its source (``github.com/hashicorp/qemu`` → ``qemu``)."""
    return source.rstrip("/").rsplit("/", 1)[-1].lower()

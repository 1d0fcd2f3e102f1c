"""Turn a loaded JSON document into a :class:`Template`, the way Packer 1.6.6's ``template.Parse`` does.

Every problem is collected with its location (Packer stops at the first failing stage); messages
keep Packer's wording after a ``path:`` such as ``builders[1]:`` or ``provisioners[0].only:``.
Root keys and post-processor meta keys are decoded strictly (mapstructure without weak typing),
builder and provisioner meta keys weakly, exactly as in Packer. :func:`check_template` holds the
checks Packer runs later (``Template.Validate`` and the ``min_packer_version`` test), which
``validate -syntax-only`` skips.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from imagesmith.errors import Location, Problem, TemplateError
from imagesmith.template.load import load_json
from imagesmith.template.mapstructure import (
    DecodeError,
    go_kind,
    strict_bool,
    strict_list,
    strict_map,
    strict_str,
    strict_str_list,
    unconvertible,
    weak_duration,
    weak_map,
    weak_str,
    weak_str_list,
    without,
)
from imagesmith.template.min_version import check_min_version
from imagesmith.template.model import BuilderBlock, PostProcessorBlock, ProvisionerBlock, Template, Variable
from imagesmith.template.positions import JsonObject, key_loc_of, loc_of

__all__ = ["check_min_version", "check_template", "in_file_order", "load_template", "parse_template"]

_ROOT_KEYS = {
    "min_packer_version",
    "description",
    "builders",
    "provisioners",
    "post-processors",
    "variables",
    "sensitive-variables",
    "error-cleanup-provisioner",
    "push",
    "comments",
}
_PROVISIONER_META = (
    "type",
    "only",
    "except",
    "override",
    "pause_before",
    "max_retries",
    "timeout",
    "cache",  # imagesmith extensions (docs/layers.md): not passed to the provisioner's config
    "cache_key_extra",
)
_PP_META = ("type", "name", "only", "except", "keep_input_artifact")


def load_template(path: str) -> Template:
    """Read, parse and structurally check the template at ``path`` (``-`` = stdin)."""
    if path.endswith((".pkr.hcl", ".pkr.json")):  # Packer 1.6.6 reads these in HCL2 mode
        raise TemplateError(
            f"{path}: HCL2 templates (*.pkr.hcl, *.pkr.json) are not supported; imagesmith reads legacy JSON templates"
        )
    raw = load_json(path)
    absolute = os.path.abspath(path)
    return parse_template(raw, absolute, "<stdin>" if path == "-" else path)


def parse_template(raw: Any, path: str, display: str) -> Template:
    """Build a :class:`Template` from a loaded document; raise TemplateError with every problem."""
    tpl = Template(path=path, display=display, raw=raw)
    problems: list[Problem] = []
    if raw is None:  # Packer accepts a bare `null` as an empty template
        return tpl
    if not isinstance(raw, dict):
        raise TemplateError(Problem(f"expected a map, got '{go_kind(raw)}'", loc_of(raw) or Location(display)))
    root = _split_root(raw, problems)
    _parse_root_scalars(tpl, raw, root, problems)
    _parse_variables(tpl, raw, root, problems)
    _parse_builders(tpl, root.get("builders"), problems)
    _parse_post_processors(tpl, root.get("post-processors"), problems)
    for i, item in enumerate(root.get("provisioners") or []):
        prov = _parse_provisioner(item, i, f"provisioners[{i}]", root["provisioners"], problems)
        if prov is not None:
            tpl.provisioners.append(prov)
    if "error-cleanup-provisioner" in root and root["error-cleanup-provisioner"] is not None:
        tpl.cleanup_provisioner = _parse_provisioner(
            root["error-cleanup-provisioner"], 0, "error-cleanup-provisioner", raw, problems, key=root.key_of
        )
    if problems:
        raise TemplateError(in_file_order(problems))
    return tpl


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems sorted by position (stable; unlocated ones first), each once."""

    def key(p: Problem) -> tuple[str, int, int]:
        loc = p.location
        return (loc.file, loc.line, loc.column) if loc else ("", 0, 0)

    return sorted(dict.fromkeys(problems), key=key)


class _Root(dict[str, Any]):
    """Root keys matched to their canonical names (mapstructure matches case-insensitively)."""

    def __init__(self) -> None:
        super().__init__()
        self.original: dict[str, str] = {}

    def key_of(self, canonical: str) -> str:
        return self.original.get(canonical, canonical)


def _split_root(raw: dict[str, Any], problems: list[Problem]) -> _Root:
    root = _Root()
    for key, value in raw.items():
        canonical = key if key in _ROOT_KEYS else key.lower()
        if canonical in _ROOT_KEYS and canonical not in root:
            root[canonical] = value
            root.original[canonical] = key
        elif key.startswith("_"):
            if not isinstance(value, str):
                problems.append(
                    Problem(f'Failed to cast root level comment value in comment "{key}" to string.', loc_of(raw, key))
                )
        else:
            problems.append(Problem(f"Unknown root level key in template: '{key}'", key_loc_of(raw, key)))
    return root


def _parse_root_scalars(tpl: Template, raw: dict[str, Any], root: _Root, problems: list[Problem]) -> None:
    def strict(canonical: str, conv: Callable[[Any], Any]) -> Any:
        if root.get(canonical) is None:
            return None
        key = root.key_of(canonical)
        try:
            return conv(root[canonical])
        except DecodeError as exc:
            problems.append(Problem(str(exc), loc_of(raw, key), key))
            return None

    tpl.description = strict("description", strict_str) or ""
    tpl.min_version = strict("min_packer_version", strict_str) or ""
    tpl.sensitive_variables = strict("sensitive-variables", strict_str_list) or []
    tpl.push = strict("push", strict_map) or {}
    for canonical in ("builders", "provisioners", "post-processors"):
        if strict(canonical, strict_list) is None:
            root.pop(canonical, None)
    tpl.comments = {k: v for k, v in raw.items() if k.startswith("_") and isinstance(v, str)}


def _parse_variables(tpl: Template, raw: dict[str, Any], root: _Root, problems: list[Problem]) -> None:
    variables = root.get("variables")
    if variables is None:
        return
    key = root.key_of("variables")
    if not isinstance(variables, dict):
        problems.append(Problem(f"expected a map, got '{go_kind(variables)}'", loc_of(raw, key), key))
        return
    for name, value in variables.items():
        where = loc_of(variables, name)
        if value is None:
            tpl.variables[name] = Variable(name, "", True, where)
        elif isinstance(value, str):
            tpl.variables[name] = Variable(name, value, False, where)
        else:
            problems.append(Problem(unconvertible("", "string", value), where, f"{key}.{name}"))


def _parse_builders(tpl: Template, builders: Any, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(builders or []):
        path = f"builders[{i}]"
        where = loc_of(builders, i)
        if not isinstance(item, dict):
            problems.append(Problem(f"expected a map, got '{go_kind(item)}'", where, path))
            continue
        try:
            key = "type"
            btype = weak_str(item.get(key))
            key = "name"
            name = weak_str(item.get(key))
        except DecodeError as exc:
            problems.append(Problem(str(exc), loc_of(item, key), f"{path}.{key}"))
            continue
        if not btype:
            problems.append(Problem("missing 'type'", where, path))
            continue
        name = name or btype
        if name in seen:
            problems.append(Problem(f"builder with name '{name}' already exists", where, path))
            continue
        seen.add(name)
        tpl.builders.append(BuilderBlock(i, btype, name, without(item, ("name", "type")), where))


def _parse_provisioner(
    item: Any,
    index: int,
    path: str,
    parent: Any,
    problems: list[Problem],
    key: Callable[[str], str] | None = None,
) -> ProvisionerBlock | None:
    where = loc_of(parent, key("error-cleanup-provisioner") if key else index)
    if item is None:  # decodes to an empty provisioner in Packer
        item = JsonObject()
    if not isinstance(item, dict):
        problems.append(Problem(f"expected a map, got '{go_kind(item)}'", where, path))
        return None
    block = ProvisionerBlock(index, "", without(item, _PROVISIONER_META), location=where, path=path)
    fields: list[tuple[str, Callable[[Any, str], Any], str]] = [
        ("type", weak_str, "type"),
        ("only", weak_str_list, "only"),
        ("except", weak_str_list, "except_"),
        ("override", weak_map, "override"),
        ("pause_before", weak_duration, "pause_before"),
        ("timeout", weak_duration, "timeout"),
        ("max_retries", weak_str, "max_retries"),
        ("cache", strict_bool, "cache"),
        ("cache_key_extra", weak_str, "cache_key_extra"),
    ]
    failed = False
    for name, conv, attr in fields:
        if item.get(name) is None:
            continue
        try:
            setattr(block, attr, conv(item[name], ""))
        except DecodeError as exc:
            problems.append(Problem(str(exc), loc_of(item, name), f"{path}.{name}"))
            failed = True
    if failed:
        return None
    if not block.type:
        problems.append(Problem("Provisioner missing 'type'", where, path))
        return None
    return block


def _parse_post_processors(tpl: Template, pps: Any, problems: list[Problem]) -> None:
    for i, item in enumerate(pps or []):
        where = loc_of(pps, i)
        if isinstance(item, str | dict):
            items, single = [(item, where)], True
        elif isinstance(item, list):
            items, single = [(v, loc_of(item, j)) for j, v in enumerate(item)], False
        else:
            problems.append(Problem("bad format", where, f"post-processors[{i}]"))
            continue
        chain: list[PostProcessorBlock] = []
        for j, (raw, at) in enumerate(items):
            path = f"post-processors[{i}]" if single else f"post-processors[{i}][{j}]"
            if isinstance(raw, list):
                problems.append(Problem("sequence not allowed to be nested in a sequence", at, path))
            elif not isinstance(raw, str | dict):
                problems.append(Problem("unknown format", at, path))
            else:
                pp = _parse_post_processor(raw, i, j, at, path, problems)
                if pp is not None:
                    chain.append(pp)
        tpl.post_processors.append(chain)


def _parse_post_processor(
    raw: str | dict[str, Any], chain: int, index: int, at: Location | None, path: str, problems: list[Problem]
) -> PostProcessorBlock | None:
    if isinstance(raw, str):
        obj = JsonObject(type=raw)
        obj.loc = at
        obj.locs["type"] = at  # type: ignore[assignment]
        raw = obj
    block = PostProcessorBlock(chain, index, "", "", without(raw, _PP_META), location=at, path=path)
    fields: list[tuple[str, Callable[[Any], Any], str]] = [
        ("type", strict_str, "type"),
        ("name", strict_str, "name"),
        ("only", strict_str_list, "only"),
        ("except", strict_str_list, "except_"),
        ("keep_input_artifact", strict_bool, "keep_input_artifact"),
    ]
    failed = False
    for name, conv, attr in fields:
        if raw.get(name) is None:
            continue
        try:
            setattr(block, attr, conv(raw[name]))
        except DecodeError as exc:
            problems.append(Problem(str(exc), loc_of(raw, name), f"{path}.{name}"))
            failed = True
    if failed:
        return None
    if not block.type:
        problems.append(Problem("type is required", at, path))
        return None
    block.name = block.name or block.type
    return block


def check_template(tpl: Template) -> list[Problem]:
    """Packer's ``Template.Validate`` plus the ``min_packer_version`` check, all problems at once."""
    problems: list[Problem] = []
    if not tpl.builders:
        problems.append(Problem("at least one builder must be defined", Location(tpl.display)))
    names = tpl.builder_names()
    for prov in tpl.provisioners:
        problems += _check_only_except(prov.only, prov.except_, names, prov.location, prov.path)
        for name in prov.override:
            if name not in names:
                where = loc_of(prov.override, name) or prov.location
                problems.append(Problem(f"override '{name}' doesn't exist", where, f"{prov.path}.override"))
    for chain in tpl.post_processors:
        for pp in chain:
            problems += _check_only_except(pp.only, pp.except_, names, pp.location, pp.path)
    problem = check_min_version(tpl)
    if problem is not None:
        problems.append(problem)
    return problems


def _check_only_except(
    only: list[str], except_: list[str], names: dict[str, BuilderBlock], at: Location | None, path: str
) -> list[Problem]:
    if only and except_:
        return [Problem("only one of 'only' or 'except' may be specified", at, path)]
    out = [Problem(f"'only' specified builder '{n}' not found", at, f"{path}.only") for n in only if n not in names]
    out += [
        Problem(f"'except' specified builder '{n}' not found", at, f"{path}.except") for n in except_ if n not in names
    ]
    return out

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
import re
from collections.abc import Callable
from typing import Any

from imagesmith import PACKER_COMPAT_VERSION
from imagesmith.errors import Location, Problem, TemplateError
from imagesmith.template.load import load_json
from imagesmith.template.model import BuilderBlock, PostProcessorBlock, ProvisionerBlock, Template, Variable
from imagesmith.template.positions import JsonObject, key_loc_of, loc_of
from imagesmith.template.values import Duration, parse_go_duration

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
_PROVISIONER_META = ("type", "only", "except", "override", "pause_before", "max_retries", "timeout")
_PP_META = ("type", "name", "only", "except", "keep_input_artifact")


class DecodeError(ValueError):
    """A value of the wrong shape for a meta key (worded as mapstructure words it)."""


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
        raise TemplateError(Problem(f"expected a map, got '{_go_kind(raw)}'", loc_of(raw) or Location(display)))
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
        raise TemplateError(problems)
    return tpl


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

    tpl.description = strict("description", _strict_str) or ""
    tpl.min_version = strict("min_packer_version", _strict_str) or ""
    tpl.sensitive_variables = strict("sensitive-variables", _strict_str_list) or []
    tpl.push = strict("push", _strict_map) or {}
    for canonical in ("builders", "provisioners", "post-processors"):
        if strict(canonical, _strict_list) is None:
            root.pop(canonical, None)
    tpl.comments = {k: v for k, v in raw.items() if k.startswith("_") and isinstance(v, str)}


def _parse_variables(tpl: Template, raw: dict[str, Any], root: _Root, problems: list[Problem]) -> None:
    variables = root.get("variables")
    if variables is None:
        return
    key = root.key_of("variables")
    if not isinstance(variables, dict):
        problems.append(Problem(f"expected a map, got '{_go_kind(variables)}'", loc_of(raw, key), key))
        return
    for name, value in variables.items():
        where = loc_of(variables, name)
        if value is None:
            tpl.variables[name] = Variable(name, "", True, where)
        elif isinstance(value, str):
            tpl.variables[name] = Variable(name, value, False, where)
        else:
            problems.append(Problem(_unconvertible("", "string", value), where, f"{key}.{name}"))


def _parse_builders(tpl: Template, builders: Any, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(builders or []):
        path = f"builders[{i}]"
        where = loc_of(builders, i)
        if not isinstance(item, dict):
            problems.append(Problem(f"expected a map, got '{_go_kind(item)}'", where, path))
            continue
        try:
            key = "type"
            btype = _weak_str(item.get(key))
            key = "name"
            name = _weak_str(item.get(key))
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
        tpl.builders.append(BuilderBlock(i, btype, name, _without(item, ("name", "type")), where))


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
        problems.append(Problem(f"expected a map, got '{_go_kind(item)}'", where, path))
        return None
    block = ProvisionerBlock(index, "", _without(item, _PROVISIONER_META), location=where, path=path)
    fields: list[tuple[str, Callable[[Any, str], Any], str]] = [
        ("type", _weak_str, "type"),
        ("only", _weak_str_list, "only"),
        ("except", _weak_str_list, "except_"),
        ("override", _weak_map, "override"),
        ("pause_before", _weak_duration, "pause_before"),
        ("timeout", _weak_duration, "timeout"),
        ("max_retries", _weak_str, "max_retries"),
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
    block = PostProcessorBlock(chain, index, "", "", _without(raw, _PP_META), location=at, path=path)
    fields: list[tuple[str, Callable[[Any], Any], str]] = [
        ("type", _strict_str, "type"),
        ("name", _strict_str, "name"),
        ("only", _strict_str_list, "only"),
        ("except", _strict_str_list, "except_"),
        ("keep_input_artifact", _strict_bool, "keep_input_artifact"),
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


# --- min_packer_version (hashicorp/go-version semantics) -----------------------------------------

_VERSION = re.compile(
    r"v?([0-9]+(?:\.[0-9]+)*?)"
    r"(-([0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)))?"
    r"(\+([0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))?"
)


def parse_version(text: str) -> tuple[list[int], str, str]:
    """``(segments padded to 3, prerelease, metadata)``; raise ValueError as go-version does."""
    m = _VERSION.fullmatch(text)
    if not m:
        raise ValueError(f"Malformed version: {text}")
    segments = [int(s) for s in m.group(1).split(".")]
    segments += [0] * (3 - len(segments))
    return segments, m.group(3) or m.group(5) or "", m.group(7) or ""


def format_version(text: str) -> str:
    segments, pre, meta = parse_version(text)
    out = ".".join(str(s) for s in segments)
    return out + (f"-{pre}" if pre else "") + (f"+{meta}" if meta else "")


def version_less(a: str, b: str) -> bool:
    """go-version's ``LessThan`` (prerelease sorts before the release; metadata is ignored)."""
    sa, pa, _ = parse_version(a)
    sb, pb, _ = parse_version(b)
    width = max(len(sa), len(sb))
    sa, sb = sa + [0] * (width - len(sa)), sb + [0] * (width - len(sb))
    if sa != sb:
        return sa < sb
    if pa == pb:
        return False
    if not pa or not pb:
        return bool(pa)
    return _prerelease_key(pa) < _prerelease_key(pb)


def _prerelease_key(pre: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")]


def check_min_version(tpl: Template) -> Problem | None:
    """``This template requires Packer version X or higher`` when imagesmith's Packer version is older."""
    if not tpl.min_version:
        return None
    where = loc_of(tpl.raw, "min_packer_version") or Location(tpl.display)
    try:
        if version_less(PACKER_COMPAT_VERSION, tpl.min_version):
            return Problem(
                f"This template requires Packer version {format_version(tpl.min_version)} or higher; "
                f"using {PACKER_COMPAT_VERSION}",
                where,
                "min_packer_version",
            )
    except ValueError as exc:
        return Problem(f"min_version is invalid: {exc}", where, "min_packer_version")
    return None


# --- mapstructure-style decoding of meta keys ----------------------------------------------------


def _without(obj: Any, keys: tuple[str, ...]) -> JsonObject:
    out = JsonObject({k: v for k, v in obj.items() if k not in keys})
    out.loc = getattr(obj, "loc", None)
    for attr in ("locs", "key_locs"):
        src = getattr(obj, attr, {})
        getattr(out, attr).update({k: v for k, v in src.items() if k not in keys})
    return out


def _go_kind(value: Any) -> str:
    if value is None:
        return "null"  # Go says 'invalid' (or panics, for a null builder)
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "slice" if isinstance(value, list) else "map"


def _go_type(value: Any) -> str:
    kind = _go_kind(value)
    return {"slice": "[]interface {}", "map": "map[string]interface {}"}.get(kind, kind)


def go_value(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return go_float(float(value))
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def go_float(f: float) -> str:
    """``strconv.FormatFloat(f, 'g', -1, 64)`` as ``%v`` prints it: shortest digits, exponent past 21 digits."""
    if f != f or f in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(f)]
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    text = repr(f)
    if "e" not in text:
        return text
    mantissa, exp = text.split("e")
    return f"{mantissa}e{int(exp):+03d}"


def _unconvertible(name: str, want: str, value: Any) -> str:
    head = f"{name}: " if name else ""
    return f"{head}expected type '{want}', got unconvertible type '{_go_type(value)}', value: '{go_value(value)}'"


def _strict_str(value: Any, name: str = "") -> str:
    if isinstance(value, str):
        return value
    raise DecodeError(_unconvertible(name, "string", value))


def _strict_bool(value: Any, name: str = "") -> bool:
    if isinstance(value, bool):
        return value
    raise DecodeError(_unconvertible(name, "bool", value))


def _strict_list(value: Any, name: str = "") -> list[Any]:
    if isinstance(value, list):
        return value
    raise DecodeError(f"source data must be an array or slice, got {_go_kind(value)}")


def _strict_str_list(value: Any, name: str = "") -> list[str]:
    return [_strict_str(v, f"[{i}]") for i, v in enumerate(_strict_list(value, name))]


def _strict_map(value: Any, name: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise DecodeError(f"expected a map, got '{_go_kind(value)}'")


def _weak_str(value: Any, name: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    raise DecodeError(_unconvertible(name, "string", value))


def _weak_str_list(value: Any, name: str = "") -> list[str]:
    if isinstance(value, dict) and not value:
        return []
    items = value if isinstance(value, list) else [value]
    return [_weak_str(v, f"[{i}]") for i, v in enumerate(items)]


def _weak_map(value: Any, name: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        merged = JsonObject()
        for v in value:
            merged.update(v)
            merged.locs.update(getattr(v, "locs", {}))
        return merged
    raise DecodeError(f"expected a map, got '{_go_kind(value)}'")


def _weak_duration(value: Any, name: str = "") -> Duration:
    if isinstance(value, str):
        try:
            return parse_go_duration(value)
        except ValueError as exc:
            raise DecodeError(str(exc)) from None
    if isinstance(value, bool):
        return Duration(1e-9 if value else 0.0)
    if isinstance(value, int | float):
        return Duration(int(value) / 1e9)
    raise DecodeError(_unconvertible(name, "int64", value))

"""Decode a raw template block into a typed, frozen config dataclass.

This plays the part of Packer's ``config.Decode`` (mapstructure with WeaklyTypedInput, the
``StringToSlice(",")`` and ``StringToTimeDuration`` hooks, and ``interpolate.RenderMap``):

* several raw layers are merged in order (how provisioner ``override`` works);
* every string is rendered with the template engine, except fields declared ``render=False``
  (Packer's ``InterpolateFilter.Exclude``: boot_command, run_command, execute_command, ...);
* values are converted by the field's annotation with Packer's weak-typing rules;
* unknown keys, missing required fields and bad types are all collected as located
  :class:`~imagesmith.errors.Problem` s, never raised one at a time.

A config class declares its fields with :func:`option` and may define ``check(self) ->
Iterable[str | Problem]`` for the rules that involve several fields.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from imagesmith.errors import Problem, RenderError
from imagesmith.template.mapstructure import go_type
from imagesmith.template.positions import key_loc_of, loc_of
from imagesmith.template.values import Duration, parse_go_duration

T = TypeVar("T")
Renderer = Callable[[str], str]
_MISSING = dataclasses.MISSING


def option(
    default: Any = _MISSING,
    *,
    factory: Callable[[], Any] | None = None,
    key: str | None = None,
    required: bool = False,
    render: bool = True,
    doc: str = "",
) -> Any:
    """Declare a config field. ``key`` is the template key when it differs from the field name."""
    meta = {"key": key, "required": required, "render": render, "doc": doc}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    if default is _MISSING and not required:
        default = None
    if default is _MISSING:
        default = None
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass
class _Field:
    name: str
    key: str
    hint: Any
    required: bool
    render: bool


@functools.cache
def _fields_of(cls: type) -> dict[str, _Field]:
    hints = typing.get_type_hints(cls)
    out: dict[str, _Field] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = f.metadata.get("key") or f.name
        out[key] = _Field(f.name, key, hints[f.name], bool(f.metadata.get("required")), f.metadata.get("render", True))
    return out


def config_keys(cls: type) -> list[str]:
    """The template keys a config class accepts."""
    return list(_fields_of(cls))


def merge_layers(raws: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Mapping[str, Any]]]:
    """Merge raw layers (later wins, shallowly); also return which layer each key came from."""
    merged: dict[str, Any] = {}
    origin: dict[str, Mapping[str, Any]] = {}
    for raw in raws:
        for key, value in raw.items():
            merged[key] = value
            origin[key] = raw
    return merged, origin


def decode_config(
    cls: type[T],
    raws: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    render: Renderer | None,
    path: str,
    problems: list[Problem],
    ignore: Iterable[str] = (),
) -> T:
    """Decode ``raws`` into ``cls``; append every problem to ``problems``.

    Always returns an instance (fields with errors keep their defaults), so callers can keep
    checking and report everything at once.
    """
    if isinstance(raws, Mapping):
        raws = [raws]
    merged, origin = merge_layers(raws)
    fields = _fields_of(cls)  # type: ignore[arg-type]
    ignored = set(ignore)
    kwargs: dict[str, Any] = {}
    before = len(problems)
    for key, value in merged.items():
        if key in ignored:
            continue
        src = origin[key]
        fld = fields.get(key)
        if fld is None:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(f'unknown configuration key: "{key}"{hint}', key_loc_of(src, key), path))
            continue
        if value is None:  # mapstructure leaves the field alone for a JSON null: the default stays
            continue
        where = f"{path}.{key}" if path else key
        try:
            if fld.render and render is not None:
                value = _render_deep(value, render)
            kwargs[fld.name] = convert(value, fld.hint, where)
        except (ConfigValueError, RenderError) as exc:
            problems.append(Problem(str(exc), loc_of(src, key), where))
    for fld in fields.values():
        if fld.required and fld.name not in kwargs:
            problems.append(Problem(f"{fld.key} must be specified", loc_of(raws[0]) if raws else None, path))
    config = cls(**kwargs)
    if len(problems) == before:
        check = getattr(config, "check", None)
        if check is not None:
            for item in check():
                problems.append(item if isinstance(item, Problem) else Problem(item, loc_of(raws[0]), path))
    return config


class ConfigValueError(ValueError):
    """A value that can't be converted to its field's type."""


def _render_deep(value: Any, render: Renderer) -> Any:
    if isinstance(value, str):
        return render(value) if "{{" in value else value
    if isinstance(value, list):
        return [_render_deep(v, render) for v in value]
    if isinstance(value, dict):
        return {k: _render_deep(v, render) for k, v in value.items()}
    return value


def _bad(where: str, want: str, value: Any) -> ConfigValueError:
    return ConfigValueError(f"expected type '{want}', got unconvertible type '{go_type(value)}' ({value!r})")


def convert(value: Any, hint: Any, where: str = "") -> Any:
    """Convert a JSON value to ``hint`` with Packer's weak typing rules."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if value is None:
            return None
        return convert(value, non_none[0], where) if len(non_none) == 1 else value
    if hint is Any or hint is object:
        return value
    if value is None:
        return _zero(hint)
    if hint is Duration:
        return _to_duration(value, where)
    if hint is bool:
        return _to_bool(value, where)
    if hint is int:
        return _to_int(value, where)
    if hint is float:
        return _to_float(value, where)
    if hint is str:
        return _to_str(value, where)
    if origin in (list, tuple, Sequence) or hint is list:
        inner = args[0] if args else Any
        if isinstance(value, str) and inner in (str, Any):
            return [part for part in value.split(",")] if value else []
        if isinstance(value, dict) and not value:
            return []
        if not isinstance(value, list):
            value = [value]
        return [convert(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Mapping) or hint is dict:
        kt, vt = args if args else (str, Any)
        if isinstance(value, list):
            if not value:
                return {}
            if all(isinstance(v, dict) for v in value):  # slice of maps → merged map
                merged: dict[str, Any] = {}
                for v in value:
                    merged.update(v)
                value = merged
        if not isinstance(value, dict):
            raise _bad(where, "map[string]string" if vt is str else "map", value)
        return {convert(k, kt, where): convert(v, vt, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            raise _bad(where, "map", value)
        sub: list[Problem] = []
        result = decode_config(hint, value, render=None, path=where, problems=sub)
        if sub:
            raise ConfigValueError("; ".join(str(p) for p in sub))
        return result
    return value


def _zero(hint: Any) -> Any:
    if hint is str:
        return ""
    if hint in (int, float):
        return hint()
    if hint is bool:
        return False
    return None


def _to_str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise _bad(where, "string", value)


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False", ""}


def _to_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigValueError(f"cannot parse '{where}' as bool: strconv.ParseBool: parsing {value!r}: invalid syntax")
    raise _bad(where, "bool", value)


def _to_int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        if value == "":
            return 0
        try:
            return int(value, 0)
        except ValueError:
            raise ConfigValueError(
                f"cannot parse '{where}' as int: strconv.ParseInt: parsing {value!r}: invalid syntax"
            ) from None
    raise _bad(where, "int", value)


def _to_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value) if value else 0.0
        except ValueError:
            raise ConfigValueError(f"cannot parse '{where}' as float: {value!r}") from None
    raise _bad(where, "float64", value)


def _to_duration(value: Any, where: str) -> Duration:
    if isinstance(value, str):  # "" is an error too, as Go's time.ParseDuration("") (e.g. an unset {{user}})
        try:
            return parse_go_duration(value)
        except ValueError as exc:
            raise ConfigValueError(str(exc)) from None
    if isinstance(value, bool):  # mapstructure's weak decoding into int64: true is 1 ns, false 0
        return Duration(1e-9 if value else 0.0)
    if isinstance(value, int | float):  # mapstructure: a number is nanoseconds
        return Duration(float(value) / 1e9)
    raise _bad(where, "time.Duration", value)

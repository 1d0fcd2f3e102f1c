"""mapstructure-style decoding of template meta keys, with Go's wording of type errors.

Packer decodes root keys and post-processor meta keys strictly and builder/provisioner meta keys
weakly (``WeaklyTypedInput``); these helpers do both and format values as Go's ``%v`` does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagesmith.template.positions import JsonObject
from imagesmith.template.values import Duration, parse_go_duration


class DecodeError(ValueError):
    """A value of the wrong shape for a meta key (worded as mapstructure words it)."""


def without(obj: Any, keys: tuple[str, ...]) -> JsonObject:
    out = JsonObject({k: v for k, v in obj.items() if k not in keys})
    out.loc = getattr(obj, "loc", None)
    for attr in ("locs", "key_locs"):
        src = getattr(obj, attr, {})
        getattr(out, attr).update({k: v for k, v in src.items() if k not in keys})
    return out


def go_kind(value: Any) -> str:
    if value is None:
        return "null"  # Go says 'invalid' (or panics, for a null builder)
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "slice" if isinstance(value, list) else "map"


def go_type(value: Any) -> str:
    kind = go_kind(value)
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


def unconvertible(name: str, want: str, value: Any) -> str:
    head = f"{name}: " if name else ""
    return f"{head}expected type '{want}', got unconvertible type '{go_type(value)}', value: '{go_value(value)}'"


def strict_str(value: Any, name: str = "") -> str:
    if isinstance(value, str):
        return value
    raise DecodeError(unconvertible(name, "string", value))


def strict_bool(value: Any, name: str = "") -> bool:
    if isinstance(value, bool):
        return value
    raise DecodeError(unconvertible(name, "bool", value))


def strict_list(value: Any, name: str = "") -> list[Any]:
    if isinstance(value, list):
        return value
    raise DecodeError(f"source data must be an array or slice, got {go_kind(value)}")


def strict_str_list(value: Any, name: str = "") -> list[str]:
    # a null element decodes to "" (mapstructure leaves the zero value)
    return ["" if v is None else strict_str(v, f"[{i}]") for i, v in enumerate(strict_list(value, name))]


def strict_map(value: Any, name: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise DecodeError(f"expected a map, got '{go_kind(value)}'")


def weak_str(value: Any, name: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):  # JSON numbers are float64 in Go: FormatFloat(f, 'f', -1, 64)
        text = format(Decimal(repr(float(value))), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    raise DecodeError(unconvertible(name, "string", value))


def weak_str_list(value: Any, name: str = "") -> list[str]:
    if isinstance(value, dict) and not value:
        return []
    items = value if isinstance(value, list) else [value]
    return [weak_str(v, f"[{i}]") for i, v in enumerate(items)]


def weak_map(value: Any, name: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        merged = JsonObject()
        for v in value:
            merged.update(v)
            merged.locs.update(getattr(v, "locs", {}))
        return merged
    raise DecodeError(f"expected a map, got '{go_kind(value)}'")


def weak_duration(value: Any, name: str = "") -> Duration:
    if isinstance(value, str):
        try:
            return parse_go_duration(value)
        except ValueError as exc:
            raise DecodeError(str(exc)) from None
    if isinstance(value, bool):
        return Duration(1e-9 if value else 0.0)
    if isinstance(value, int | float):
        return Duration(int(value) / 1e9)
    raise DecodeError(unconvertible(name, "int64", value))

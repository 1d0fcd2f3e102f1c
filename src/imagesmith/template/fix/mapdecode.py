"""How Packer's fixers pick parts out of a template (they use Go's ``mapstructure``), reproduced.

This matters for odd templates only, but ``packer fix`` output depends on it, so it is kept exact:

- A root field is found by its exact name first (``Builders``, ``Provisioners``, ``post-processors``),
  then by a case-insensitive match, so a template with ``builders`` is read through ``Builders``;
  the fixer always writes back to the lower-case key.
- ``builders`` is decoded strictly into a list of objects: each object is copied (shallowly), ``null``
  stays ``null``, anything else is an error worded as mapstructure words it.
- A "weak" list decode lifts a single value into a one-element list (an empty object becomes ``[]``).
- A "weak" object decode of a list merges the objects in it (an empty list becomes ``{}``).

The ``fix_*`` helpers change the template they are given (as Packer's fixers do) and return it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from imagesmith.errors import ImagesmithError

Template = dict[str, Any]
Builder = dict[str, Any]


class FixError(ImagesmithError):
    """A fixer could not process the template (Packer prints it after ``Error fixing:``)."""


class DecodeError(FixError):
    """A part of the template has the wrong JSON type for a fixer."""


def go_kind(value: Any) -> str:
    """The Go reflect kind name of a decoded JSON value (as mapstructure prints it)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "slice"
    if value is None:
        return "null"  # mapstructure never sees nil here; used in imagesmith's own messages
    return "map" if isinstance(value, dict) else "invalid"


def decoding_error(errors: list[str], hint: str = "") -> DecodeError:
    """mapstructure's aggregated error: a count, then the messages sorted."""
    points = sorted(f"* {error}" for error in errors)
    return DecodeError(f"{len(errors)} error(s) decoding:\n\n" + "\n".join(points), hint=hint)


def find_field(template: Template, name: str) -> str | None:
    """The key mapstructure reads for struct field ``name``: exact, else case-insensitive."""
    if name in template:
        return name
    folded = name.casefold()
    return next((key for key in template if key.casefold() == folded), None)


def field_value(template: Template, name: str) -> Any:
    key = find_field(template, name)
    return None if key is None else template[key]


def decode_list(value: Any, name: str, weak: bool) -> list[Any] | None:
    """Decode ``value`` into a Go ``[]interface{}`` (elements are shared, not copied)."""
    if value is None:
        return None
    if isinstance(value, list):
        return list(value)
    if not weak:
        key = name.lower()
        hint = f"'{key}' must be a list" + (" of objects" if key == "builders" else "")
        raise decoding_error([f"'{name}': source data must be an array or slice, got {go_kind(value)}"], hint)
    if isinstance(value, dict) and not value:
        return []
    return [value]


def decode_builders(template: Template) -> list[Builder | None] | None:
    """Decode the root ``builders`` strictly into a list of (copied) objects."""
    raw = decode_list(field_value(template, "Builders"), "Builders", weak=False)
    if raw is None:
        return None
    errors = [
        f"'Builders[{index}]' expected a map, got '{go_kind(item)}'"
        for index, item in enumerate(raw)
        if item is not None and not isinstance(item, dict)
    ]
    if errors:
        raise decoding_error(errors, "each builder must be a JSON object with a 'type'")
    return [None if item is None else dict(item) for item in raw]


def decode_map(value: Any, name: str = "") -> dict[str, Any] | None:
    """Strictly decode ``value`` into a Go map (a shallow copy); ``None`` stays ``None``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DecodeError(f"'{name}' expected a map, got '{go_kind(value)}'")
    return dict(value)


def weak_decode_map(value: Any, name: str = "") -> dict[str, Any] | None:
    """Weakly decode ``value`` into a Go map: objects are copied, lists of objects merged."""
    if value is None:
        return None
    result: dict[str, Any] = {}
    _merge_weak(value, name, result)
    return result


def _merge_weak(value: Any, name: str, into: dict[str, Any]) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        into.update(value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _merge_weak(item, f"{name}[{index}]", into)
    else:
        raise DecodeError(f"'{name}' expected a map, got '{go_kind(value)}'")


def pp_list(post_processors: list[Any] | None) -> list[dict[str, Any]]:
    """The post-processor objects of a ``post-processors`` list, including those inside sequences."""
    found: list[dict[str, Any]] = []
    for item in post_processors or []:
        if isinstance(item, dict):
            found.append(item)
        elif isinstance(item, list):
            found += [inner for inner in item if isinstance(inner, dict)]
    return found


def builder_type(builder: Builder) -> str | None:
    """The builder's ``type`` when it is a string."""
    value = builder.get("type")
    return value if isinstance(value, str) else None


def iter_builders(builders: list[Builder | None] | None) -> Iterator[tuple[int, Builder]]:
    for index, builder in enumerate(builders or []):
        if builder is not None:
            yield index, builder


def fix_builders(template: Template, change: Callable[[Builder, str], None], keep_empty: bool = True) -> Template:
    """The common fixer shape: decode ``builders``, ``change`` each object, write them back (in place).

    ``change`` gets the builder and its path (``builders[2]``) for error messages. Like Packer, the
    result has a ``builders`` key (``null`` when there was none) unless ``keep_empty`` is false.
    """
    builders = decode_builders(template)
    for index, builder in iter_builders(builders):
        change(builder, f"builders[{index}]")
    if builders or keep_empty:
        template["builders"] = builders
    return template


def fix_builders_of_type(
    template: Template, accept: Callable[[str], bool], change: Callable[[Builder, str], None], keep_empty: bool = True
) -> Template:
    """:func:`fix_builders` for builders whose string ``type`` satisfies ``accept``."""

    def change_matching(builder: Builder, where: str) -> None:
        kind = builder_type(builder)
        if kind is not None and accept(kind):
            change(builder, where)

    return fix_builders(template, change_matching, keep_empty)


def fix_post_processors(template: Template, change: Callable[[dict[str, Any]], None]) -> Template:
    """The post-processor fixer shape: nothing unless ``post-processors`` is set; else change each object."""
    if template.get("post-processors") is None:
        return template
    pps = decode_list(template.get("post-processors"), "post-processors", weak=False)
    for pp in pp_list(pps):
        change(pp)
    template["post-processors"] = pps
    return template


def rename_key(obj: dict[str, Any], old: str, new: str) -> None:
    """Move ``obj[old]`` to ``obj[new]`` when ``old`` is present (overwriting ``new``)."""
    if old in obj:
        obj[new] = obj.pop(old)

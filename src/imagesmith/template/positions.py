"""JSON values that remember where they came from.

The loader returns :class:`JsonObject` and :class:`JsonArray`, plain ``dict``/``list`` subclasses
carrying a :class:`~imagesmith.errors.Location` for each key or element, so every later error
(unknown key, bad type, failed interpolation) can point at file, line and column.
"""

from __future__ import annotations

from typing import Any

from imagesmith.errors import Location


class JsonObject(dict[str, Any]):
    """A JSON object; ``locs[key]`` is where the key's value starts, ``loc`` where the object starts."""

    loc: Location | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locs: dict[str, Location] = {}
        self.key_locs: dict[str, Location] = {}


class JsonArray(list[Any]):
    """A JSON array; ``locs[i]`` is where element ``i`` starts."""

    loc: Location | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.locs: list[Location] = []


def loc_of(container: Any, key: str | int | None = None) -> Location | None:
    """The location of ``container[key]`` (or of the container itself), if known."""
    if key is None:
        return getattr(container, "loc", None)
    if isinstance(container, JsonObject) and isinstance(key, str):
        return container.locs.get(key) or container.loc
    if isinstance(container, JsonArray) and isinstance(key, int):
        return container.locs[key] if 0 <= key < len(container.locs) else container.loc
    return getattr(container, "loc", None)


def key_loc_of(container: Any, key: str) -> Location | None:
    """The location of the key itself (for "unknown key" errors), if known."""
    if isinstance(container, JsonObject):
        return container.key_locs.get(key) or container.locs.get(key) or container.loc
    return getattr(container, "loc", None)

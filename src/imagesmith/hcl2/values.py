"""cty-like values: a type, a payload, and marks (``sensitive``); null and unknown values.

Payloads: ``str`` (NFC-normalised) for strings, :class:`~fractions.Fraction` for numbers, ``bool``,
``list[Value]`` for lists, sets and tuples, ``dict[str, Value]`` (sorted by key) for maps and
objects; ``None`` for null and :data:`UNKNOWN` for unknown values.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from imagesmith.hcl2.numbers import format_number, round_to_precision
from imagesmith.hcl2.types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    ListType,
    MapType,
    ObjectType,
    SetType,
    TupleType,
    Type,
)

SENSITIVE = "sensitive"


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
NO_MARKS: frozenset[str] = frozenset()


class Value:
    """One immutable value. Build values with the helpers below, not directly."""

    __slots__ = ("marks", "type", "v")

    def __init__(self, ty: Type, v: Any, marks: frozenset[str] = NO_MARKS) -> None:
        self.type = ty
        self.v = v
        self.marks = marks

    # -- state
    @property
    def is_null(self) -> bool:
        return self.v is None

    @property
    def is_known(self) -> bool:
        return self.v is not UNKNOWN

    def is_wholly_known(self) -> bool:
        """Known, and (for collections and structures) every element known too."""
        if self.v is UNKNOWN:
            return False
        if isinstance(self.v, list):
            return all(e.is_wholly_known() for e in self.v)
        if isinstance(self.v, dict):
            return all(e.is_wholly_known() for e in self.v.values())
        return True

    @property
    def is_marked(self) -> bool:
        return bool(self.marks)

    def with_marks(self, marks: Iterable[str]) -> Value:
        marks = frozenset(marks)
        if not marks or marks <= self.marks:
            return self
        return Value(self.type, self.v, self.marks | marks)

    def unmark(self) -> tuple[Value, frozenset[str]]:
        if not self.marks:
            return self, NO_MARKS
        return Value(self.type, self.v), self.marks

    def deep_marks(self) -> frozenset[str]:
        """Marks on this value and on anything inside it."""
        marks = self.marks
        if isinstance(self.v, list):
            for e in self.v:
                marks |= e.deep_marks()
        elif isinstance(self.v, dict):
            for e in self.v.values():
                marks |= e.deep_marks()
        return marks

    # -- payload accessors
    def as_str(self) -> str:
        assert isinstance(self.v, str)
        return self.v

    def as_number(self) -> Fraction:
        """The number (an infinity is a float: cty numbers may be +Inf or -Inf)."""
        assert isinstance(self.v, (Fraction, float))
        return self.v  # type: ignore[return-value]

    def as_bool(self) -> bool:
        assert isinstance(self.v, bool)
        return self.v

    def elements(self) -> list[Value]:
        """Elements of a known list, set or tuple."""
        assert isinstance(self.v, list)
        return self.v

    def items(self) -> dict[str, Value]:
        """Attributes or elements of a known object or map."""
        assert isinstance(self.v, dict)
        return self.v

    def length(self) -> int:
        return len(self.v)

    # -- comparisons
    def raw_equals(self, other: Value) -> bool:
        """Identical type, payload and marks (cty's RawEquals)."""
        if self.type != other.type or self.marks != other.marks:
            return False
        a, b = self.v, other.v
        if a is UNKNOWN or b is UNKNOWN:
            return a is b
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(x.raw_equals(y) for x, y in zip(a, b, strict=True))
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(a[k].raw_equals(b[k]) for k in a)
        return bool(type(a) is type(b) and a == b)

    def __repr__(self) -> str:
        marks = f" marked {sorted(self.marks)}" if self.marks else ""
        if self.v is UNKNOWN:
            return f"unknown({self.type!r}){marks}"
        if self.v is None:
            return f"null({self.type!r}){marks}"
        return f"{self.type!r}:{to_python(self)!r}{marks}"


# -- constructors
def string_val(s: str) -> Value:
    return Value(STRING, s if s.isascii() else unicodedata.normalize("NFC", s))


def number_val(n: int | Fraction | float) -> Value:
    if isinstance(n, bool):
        raise TypeError("bool is not a number")
    return Value(NUMBER, round_to_precision(Fraction(n)))


def bool_val(b: bool) -> Value:
    return TRUE if b else FALSE


def null_val(ty: Type) -> Value:
    return Value(ty, None)


def unknown_val(ty: Type) -> Value:
    return Value(ty, UNKNOWN)


def list_val(elems: list[Value]) -> Value:
    assert elems, "use empty_list for an empty list"
    return Value(ListType(elems[0].type), list(elems))


def empty_list(elem: Type) -> Value:
    return Value(ListType(elem), [])


def tuple_val(elems: Iterable[Value]) -> Value:
    elems = list(elems)
    return Value(TupleType([e.type for e in elems]), elems)


def object_val(attrs: Mapping[str, Value]) -> Value:
    items = dict(sorted(attrs.items()))
    return Value(ObjectType({k: v.type for k, v in items.items()}), items)


def map_val(items: Mapping[str, Value]) -> Value:
    assert items, "use empty_map for an empty map"
    first = next(iter(items.values()))
    return Value(MapType(first.type), dict(sorted(items.items())))


def empty_map(elem: Type) -> Value:
    return Value(MapType(elem), {})


def set_val(elems: Iterable[Value], elem_type: Type | None = None) -> Value:
    """A set of ``elems`` (duplicates dropped, ordered as cty orders them)."""
    elems = list(elems)
    ety = elem_type if elem_type is not None else (elems[0].type if elems else DYNAMIC)
    unique: list[Value] = []
    for e in elems:
        if not any(u.raw_equals(e) for u in unique) or not e.is_known:
            unique.append(e)
    return Value(SetType(ety), sort_set_elements(unique))


def sort_set_elements(elems: list[Value]) -> list[Value]:
    """cty's set order: known strings lexically, numbers ascending, then the rest as given."""
    def key(e: Value) -> tuple[int, Any]:
        if not e.is_known or e.is_null:
            return (2, 0)
        if isinstance(e.v, str):
            return (0, e.v)
        if isinstance(e.v, Fraction):
            return (0, e.v)
        if isinstance(e.v, bool):
            return (0, e.v)
        return (1, 0)

    return sorted(elems, key=key)


TRUE = Value(BOOL, True)
FALSE = Value(BOOL, False)
DYNAMIC_VAL = Value(DYNAMIC, UNKNOWN)
NULL_DYNAMIC = Value(DYNAMIC, None)
EMPTY_OBJECT_VAL = object_val({})
EMPTY_TUPLE_VAL = tuple_val([])


def to_python(val: Value) -> Any:
    """A plain Python rendering: str, int/float-free Fraction→int or str, bool, list, dict, None."""
    v = val.v
    if v is UNKNOWN:
        return "(known after build)"
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, float):
        return format_number(v)  # type: ignore[arg-type]  # an infinity
    if isinstance(v, Fraction):
        return v.numerator if v.denominator == 1 else format_number(v)
    if isinstance(v, list):
        return [to_python(e) for e in v]
    return {k: to_python(e) for k, e in v.items()}


def from_python(obj: Any) -> Value:
    """A value from plain Python data (as JSON decoding yields): dicts become objects, lists tuples."""
    if obj is None:
        return NULL_DYNAMIC
    if isinstance(obj, Value):
        return obj
    if isinstance(obj, bool):
        return bool_val(obj)
    if isinstance(obj, (int, float, Fraction)):
        return number_val(obj)
    if isinstance(obj, str):
        return string_val(obj)
    if isinstance(obj, Mapping):
        return object_val({str(k): from_python(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple_val(from_python(e) for e in obj)
    raise TypeError(f"cannot make an HCL value from {type(obj).__name__}")

"""Indexing and attribute access with HCL's rules and messages (``hcl.Index``, ``hcl.GetAttr``)."""

from __future__ import annotations

from fractions import Fraction

from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostic
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.types import (
    DYNAMIC,
    NUMBER,
    STRING,
    DynamicType,
    ListType,
    MapType,
    ObjectType,
    SetType,
    TupleType,
)
from imagesmith.hcl2.values import DYNAMIC_VAL, UNKNOWN, Value, unknown_val


class TraversalError(Exception):
    """An index or attribute access failed; carries the diagnostic to report."""

    def __init__(self, summary: str, detail: str) -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail

    def diagnostic(self, rng: Range | None) -> Diagnostic:
        return Diagnostic(self.summary, self.detail, rng)


_NOT_IN = "The given key does not identify an element in this collection value."


def index(coll: Value, key: Value) -> Value:
    """``coll[key]``."""
    marks = coll.marks | key.marks
    if coll.is_null:
        raise TraversalError("Attempt to index null value", "This value is null, so it does not have any indices.")
    if key.is_null:
        raise TraversalError("Invalid index", "Can't use a null value as an indexing key.")
    ty = coll.type
    if isinstance(ty, DynamicType):
        return DYNAMIC_VAL.with_marks(marks)
    if isinstance(ty, (ListType, TupleType, MapType)):
        want = STRING if isinstance(ty, MapType) else NUMBER
        try:
            k = convert(key, want)
        except ConversionError as exc:
            raise TraversalError("Invalid index", f"The given key does not identify an element in this collection "
                                 f"value: {exc}.") from None
        if not k.is_known or not coll.is_known:
            elem = ty.elem if isinstance(ty, (ListType, MapType)) else DYNAMIC
            if isinstance(ty, TupleType) and k.is_known and isinstance(k.v, Fraction):
                i = k.v
                if i.denominator == 1 and 0 <= i < len(ty.elems):
                    elem = ty.elems[int(i)]
            return unknown_val(elem).with_marks(marks)
        if isinstance(ty, MapType):
            items = coll.items()
            if k.v not in items:
                raise TraversalError("Invalid index", _NOT_IN)
            return items[k.v].with_marks(marks)
        i = k.as_number()
        elems = coll.elements()
        if i.denominator != 1 or not 0 <= i < len(elems):
            if i.denominator == 1 and i < 0:
                raise TraversalError("Invalid index", "The given key does not identify an element in this collection "
                                     "value: a negative number is not a valid index for a sequence.")
            raise TraversalError("Invalid index", _NOT_IN)
        return elems[int(i)].with_marks(marks)
    if isinstance(ty, ObjectType):
        was_number = key.type == NUMBER
        try:
            k = convert(key, STRING)
        except ConversionError:
            raise TraversalError("Invalid index", "The given key does not identify an element in this collection "
                                 "value: string required.") from None
        if not k.is_known:
            return DYNAMIC_VAL.with_marks(marks)
        name = k.as_str()
        if name not in ty.attrs:
            detail = _NOT_IN
            if was_number:
                detail = ("The given key does not identify an element in this collection value. An object only "
                          "supports looking up attributes by name, not by numeric index.")
            raise TraversalError("Invalid index", detail)
        if not coll.is_known:
            return unknown_val(ty.attrs[name]).with_marks(marks)
        return coll.items()[name].with_marks(marks)
    if isinstance(ty, SetType):
        raise TraversalError("Invalid index", "Elements of a set are identified only by their value and don't have "
                             "any separate index or key to select with, so it's only possible to perform operations "
                             "across all elements of the set.")
    raise TraversalError("Invalid index", "This value does not have any indices.")


def get_attr(obj: Value, name: str) -> Value:
    """``obj.name``."""
    marks = obj.marks
    if obj.is_null:
        raise TraversalError("Attempt to get attribute from null value",
                             "This value is null, so it does not have any attributes.")
    ty = obj.type
    if isinstance(ty, DynamicType):
        return DYNAMIC_VAL.with_marks(marks)
    if isinstance(ty, ObjectType):
        if name not in ty.attrs:
            raise TraversalError("Unsupported attribute", f'This object does not have an attribute named "{name}".')
        if obj.v is UNKNOWN:
            return unknown_val(ty.attrs[name]).with_marks(marks)
        return obj.items()[name].with_marks(marks)
    if isinstance(ty, MapType):
        if obj.v is UNKNOWN:
            return unknown_val(ty.elem).with_marks(marks)
        items = obj.items()
        if name not in items:
            raise TraversalError("Missing map element", f'This map does not have an element with the key "{name}".')
        return items[name].with_marks(marks)
    if isinstance(ty, (ListType, SetType, TupleType)):
        raise TraversalError("Unsupported attribute", "This value does not have any attributes.")
    raise TraversalError("Unsupported attribute",
                         f"Can't access attributes on a primitive-typed value ({ty.friendly_name()}).")

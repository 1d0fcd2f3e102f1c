"""Type conversion and unification with cty's rules (``cty/convert``).

``convert(value, type)`` returns the value as ``type`` or raises :class:`ConversionError` whose
message is cty's ("a number is required", "list of string required", ``attribute "x" is required``).
"""

from __future__ import annotations

from collections.abc import Sequence

from imagesmith.hcl2.numbers import format_number, parse_number
from imagesmith.hcl2.types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    DynamicType,
    ListType,
    MapType,
    ObjectType,
    PrimitiveType,
    SetType,
    TupleType,
    Type,
)
from imagesmith.hcl2.values import (
    UNKNOWN,
    Value,
    bool_val,
    null_val,
    set_val,
    string_val,
    unknown_val,
)


class ConversionError(Exception):
    """A value cannot be converted; ``path`` says where inside it (``["tags", 0]``)."""

    def __init__(self, message: str, path: Sequence[str | int] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = list(path)

    def __str__(self) -> str:
        if not self.path:
            return self.message
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        return f"{where.lstrip('.')}: {self.message}" if where else self.message


def _required(want: Type) -> str:
    if isinstance(want, PrimitiveType):
        return f"{want.name} required"
    return f"{want.friendly_name()} required"


def convert(val: Value, want: Type, path: tuple[str | int, ...] = ()) -> Value:
    """``val`` converted to ``want``, unsafe conversions (string to number or bool) included."""
    if isinstance(want, DynamicType) or val.type == want:
        return val
    marks = val.marks
    if marks:
        val = Value(val.type, val.v)
    if not can_convert(val.type, want):
        raise ConversionError(_mismatch(val.type, want), path)
    if val.v is None:
        out = null_val(want)
    elif val.v is UNKNOWN:
        out = unknown_val(want)
    else:
        out = _convert_known(val, want, path)
    return out.with_marks(marks) if marks else out


def _mismatch(got: Type, want: Type) -> str:
    if isinstance(want, ObjectType) and isinstance(got, ObjectType):
        missing = [k for k in want.attrs if k not in got.attrs and k not in want.optional]
        if missing:
            return f'attribute "{missing[0]}" is required'
    return _required(want)


def can_convert(got: Type, want: Type) -> bool:
    """Whether some value of type ``got`` may convert to ``want`` (ignoring unsafe failures)."""
    if isinstance(want, DynamicType) or isinstance(got, DynamicType) or got == want:
        return True
    if isinstance(want, PrimitiveType):
        if not isinstance(got, PrimitiveType):
            return False
        return want == STRING or got == STRING
    if isinstance(want, (ListType, SetType)):
        if isinstance(got, (ListType, SetType)):
            return can_convert(got.elem, want.elem)
        if isinstance(got, TupleType):
            return all(can_convert(e, want.elem) for e in got.elems)
        return False
    if isinstance(want, MapType):
        if isinstance(got, MapType):
            return can_convert(got.elem, want.elem)
        if isinstance(got, ObjectType):
            return all(can_convert(e, want.elem) for e in got.attrs.values())
        return False
    if isinstance(want, TupleType):
        if isinstance(got, TupleType):
            return len(got.elems) == len(want.elems) and all(
                can_convert(g, w) for g, w in zip(got.elems, want.elems, strict=True))
        return isinstance(got, (ListType, SetType))
    if isinstance(want, ObjectType):
        if isinstance(got, ObjectType):
            return all(k in got.attrs or k in want.optional for k in want.attrs) and all(
                can_convert(got.attrs[k], w) for k, w in want.attrs.items() if k in got.attrs)
        return isinstance(got, MapType)
    return False


def _convert_known(val: Value, want: Type, path: tuple[str | int, ...]) -> Value:
    if isinstance(want, PrimitiveType):
        return _convert_primitive(val, want, path)
    if isinstance(want, (ListType, SetType)):
        elems = _convert_elems(val, want.elem, path)
        if isinstance(want, ListType):
            ety = want.elem if not isinstance(want.elem, DynamicType) else (elems[0].type if elems else DYNAMIC)
            return Value(ListType(ety), elems)
        return set_val(elems, want.elem if not isinstance(want.elem, DynamicType) or not elems else elems[0].type)
    if isinstance(want, MapType):
        items = val.items()
        ety = want.elem
        if isinstance(ety, DynamicType) and isinstance(val.type, ObjectType):
            unified = unify([v.type for v in items.values()]) if items else DYNAMIC
            if unified is None:
                raise ConversionError("all map elements must have the same type", path)
            ety = unified
        conv = {k: convert(v, ety, (*path, k)) for k, v in items.items()}
        return Value(MapType(ety), conv)
    if isinstance(want, TupleType):
        elems = val.elements()
        if len(elems) != len(want.elems):
            raise ConversionError(f"tuple required with {len(want.elems)} elements", path)
        return Value(want, [convert(e, w, (*path, i)) for i, (e, w) in enumerate(zip(elems, want.elems, strict=True))])
    if isinstance(want, ObjectType):
        return _convert_object(val, want, path)
    raise ConversionError(_required(want), path)


def _convert_elems(val: Value, elem: Type, path: tuple[str | int, ...]) -> list[Value]:
    elems = val.elements()
    if isinstance(elem, DynamicType):
        if isinstance(val.type, (ListType, SetType)):
            return list(elems)
        unified = unify([e.type for e in elems]) if elems else DYNAMIC
        if unified is None:
            raise ConversionError("all list elements must have the same type", path)
        elem = unified
    return [convert(e, elem, (*path, i)) for i, e in enumerate(elems)]


def _convert_object(val: Value, want: ObjectType, path: tuple[str | int, ...]) -> Value:
    items = val.items()
    out: dict[str, Value] = {}
    for name, aty in want.attrs.items():
        if name in items:
            out[name] = convert(items[name], aty, (*path, name))
        elif name in want.optional:
            out[name] = null_val(aty)
        else:
            raise ConversionError(f'attribute "{name}" is required', path)
    if isinstance(val.type, MapType):
        extra = [k for k in items if k not in want.attrs]
        if extra:
            raise ConversionError(f'unsupported attribute "{extra[0]}"', path)
    return Value(want, out)


def _convert_primitive(val: Value, want: PrimitiveType, path: tuple[str | int, ...]) -> Value:
    got = val.type
    if want == STRING:
        if got == NUMBER:
            return string_val(format_number(val.as_number()))
        if got == BOOL:
            return string_val("true" if val.as_bool() else "false")
    elif got == STRING:
        s = val.as_str()
        if want == NUMBER:
            num = parse_number(s)
            if num is None:
                raise ConversionError("a number is required", path)
            return Value(NUMBER, num)
        if want == BOOL:
            if s in ("true", "1"):
                return bool_val(True)
            if s in ("false", "0"):
                return bool_val(False)
            if s.lower() in ("true", "false"):
                raise ConversionError(f'a bool is required; to convert from string, use lowercase "{s.lower()}"', path)
            raise ConversionError("a bool is required", path)
    raise ConversionError(_required(want), path)


def unify(types: Sequence[Type]) -> Type | None:
    """The single type all ``types`` can convert to, as cty's UnifyUnsafe finds it; None if none."""
    distinct: list[Type] = []
    for ty in types:
        if ty not in distinct:
            distinct.append(ty)
    if not distinct:
        return DYNAMIC
    if len(distinct) == 1:
        return distinct[0]
    if any(isinstance(ty, DynamicType) for ty in distinct):
        return DYNAMIC
    if all(isinstance(ty, PrimitiveType) for ty in distinct):
        return STRING if STRING in distinct else None
    if all(isinstance(ty, (ListType, TupleType)) for ty in distinct):
        return _unify_elems(distinct, ListType)
    if all(isinstance(ty, SetType) for ty in distinct):
        return _unify_elems(distinct, SetType)
    if all(isinstance(ty, TupleType) for ty in distinct):
        return None
    if all(isinstance(ty, ObjectType) for ty in distinct):
        objs = [ty for ty in distinct if isinstance(ty, ObjectType)]
        names = objs[0].attrs.keys()
        if all(o.attrs.keys() == names for o in objs):
            attrs = {}
            for name in names:
                u = unify([o.attrs[name] for o in objs])
                if u is None:
                    return None
                attrs[name] = u
            return ObjectType(attrs)
    if all(isinstance(ty, (MapType, ObjectType)) for ty in distinct):
        return _unify_elems(distinct, MapType)
    return None


def _unify_elems(types: list[Type], kind: type[ListType] | type[SetType] | type[MapType]) -> Type | None:
    elems: list[Type] = []
    for ty in types:
        if isinstance(ty, (ListType, SetType, MapType)):
            elems.append(ty.elem)
        elif isinstance(ty, TupleType):
            elems.extend(ty.elems)
        elif isinstance(ty, ObjectType):
            elems.extend(ty.attrs.values())
    u = unify(elems)
    return None if u is None else kind(u)

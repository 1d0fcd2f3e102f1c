"""Collection functions of cty's standard library, and Packer's ``length`` and ``index``."""

from __future__ import annotations

from fractions import Fraction

from imagesmith.hcl2.convert import ConversionError, convert, unify
from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.functions.numeric import SUM
from imagesmith.hcl2.functions.strings import graphemes
from imagesmith.hcl2.operators import equals
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
from imagesmith.hcl2.values import (
    FALSE,
    TRUE,
    Value,
    bool_val,
    number_val,
    object_val,
    set_val,
    string_val,
    tuple_val,
    unknown_val,
)

_SEQ = (ListType, SetType, TupleType)
_ANY = Param("list", DYNAMIC)


def as_list(vals: list[Value], elem: Type | None = None) -> Value:
    """A list of ``vals`` with their types unified (an error if they cannot be)."""
    if not vals:
        return Value(ListType(elem or DYNAMIC), [])
    ety = unify([v.type for v in vals]) if elem is None else elem
    if ety is None:
        raise FunctionError("all elements must have the same type")
    return Value(ListType(ety), [convert(v, ety) for v in vals])


def _length(args: list[Value]) -> Value:
    val = args[0]
    if isinstance(val.type, (ListType, SetType, TupleType, MapType, ObjectType)):
        return number_val(val.length())
    if val.type == STRING:
        return number_val(len(graphemes(val.as_str())))
    raise FunctionError("argument must be a string, a collection type, or a structural type", 0)


def _concat(args: list[Value]) -> Value:
    out: list[Value] = []
    all_lists = True
    for i, seq in enumerate(args):
        if not isinstance(seq.type, (ListType, TupleType)):
            raise FunctionError(f"all arguments must be lists or tuples; got {seq.type.friendly_name()}", i)
        all_lists &= isinstance(seq.type, ListType)
        out.extend(seq.elements())
    if all_lists and args and len({a.type for a in args}) == 1:
        return Value(args[0].type, out)
    return tuple_val(out)


def _merge(args: list[Value]) -> Value:
    out: dict[str, Value] = {}
    all_maps = True
    for i, m in enumerate(args):
        if m.is_null:
            continue
        if not isinstance(m.type, (MapType, ObjectType)):
            raise FunctionError(f"arguments must be maps or objects, got {m.type.friendly_name()!r}".replace(
                "'", '"'), i)
        all_maps &= isinstance(m.type, MapType)
        out.update(m.items())
    if all_maps and len({a.type for a in args if not a.is_null}) == 1:
        first = next(a for a in args if not a.is_null)
        return Value(first.type, dict(sorted(out.items())))
    return object_val(out)


def _keys(args: list[Value]) -> Value:
    m = args[0]
    if isinstance(m.type, ObjectType):
        return tuple_val(string_val(k) for k in m.items())
    if isinstance(m.type, MapType):
        return Value(ListType(STRING), [string_val(k) for k in m.items()])
    raise FunctionError("must have map or object type", 0)


def _values(args: list[Value]) -> Value:
    m = args[0]
    if isinstance(m.type, ObjectType):
        return tuple_val(m.items().values())
    if isinstance(m.type, MapType):
        return Value(ListType(m.type.elem), list(m.items().values()))
    raise FunctionError("must have map or object type", 0)


def _lookup(args: list[Value]) -> Value:
    m, key = args[0], args[1].as_str()
    if not isinstance(m.type, (MapType, ObjectType)):
        raise FunctionError("lookup() requires a map as the first argument", 0)
    if len(args) > 3:
        raise FunctionError("lookup() accepts no more than three arguments")
    items = m.items()
    if key in items:
        val = items[key]
        if len(args) == 3 and isinstance(m.type, MapType):
            return val
        return val
    if len(args) == 3:
        default = args[2]
        if isinstance(m.type, MapType):
            try:
                return convert(default, m.type.elem)
            except ConversionError:
                raise FunctionError("the default value must have the same type as the map elements", 2) from None
        return default
    raise FunctionError(f'the given object has no attribute "{key}"' if isinstance(m.type, ObjectType) else
                        "lookup failed to find key " + f'"{key}"', 0)


def _element(args: list[Value]) -> Value:
    lst, idx = args[0], args[1].as_number()
    if not isinstance(lst.type, (ListType, TupleType)):
        raise FunctionError(f"cannot read elements from {lst.type.friendly_name()}", 0)
    if idx.denominator != 1:
        raise FunctionError("invalid index: value must be a whole number", 1)
    if idx < 0:  # (cty's own failures, not argument errors: "Error in function call")
        raise FunctionError("cannot use element function with a negative index")
    elems = lst.elements()
    if not elems:
        raise FunctionError("cannot use element function with an empty list")
    return elems[int(idx) % len(elems)]


def _contains(args: list[Value]) -> Value:
    lst, val = args
    if not isinstance(lst.type, _SEQ):
        raise FunctionError("argument must be list, tuple, or set", 0)
    unknown = False
    for e in lst.elements():
        r = equals(e, val)
        if not r.is_known:
            unknown = True
        elif r.as_bool():
            return TRUE
    return unknown_val(BOOL) if unknown else FALSE


def _flatten_into(val: Value, out: list[Value]) -> bool:
    for e in val.elements():
        if isinstance(e.type, _SEQ) and not e.is_null:
            if not e.is_known:
                return False
            if not _flatten_into(e, out):
                return False
        else:
            out.append(e)
    return True


def _flatten(args: list[Value]) -> Value:
    if not isinstance(args[0].type, _SEQ):
        raise FunctionError("can only flatten lists, sets and tuples", 0)
    out: list[Value] = []
    if not _flatten_into(args[0], out):
        return unknown_val(DYNAMIC)
    return tuple_val(out)


def _distinct(args: list[Value]) -> Value:
    out: list[Value] = []
    for e in args[0].elements():
        if not any(x.raw_equals(e) for x in out):
            out.append(e)
    return Value(args[0].type, out)


def _coalesce(args: list[Value]) -> Value:
    if not args:
        raise FunctionError("at least one argument is required")
    ety = unify([a.type for a in args])
    if ety is None:
        raise FunctionError("all arguments must have the same type")
    for a in args:
        if a.is_null or (a.type == STRING and a.is_known and a.as_str() == ""):
            continue
        if not a.is_known:
            return unknown_val(ety)
        return convert(a, ety)
    raise FunctionError("no non-null, non-empty-string arguments")


def _coalescelist(args: list[Value]) -> Value:
    for a in args:
        if not isinstance(a.type, (ListType, TupleType)):
            raise FunctionError("coalescelist arguments must be lists or tuples", 0)
        if not a.is_null and a.length():
            return a
    raise FunctionError("no non-null arguments")


def _compact(args: list[Value]) -> Value:
    return Value(ListType(STRING), [e for e in args[0].elements() if not e.is_null and e.as_str() != ""])


def _range(args: list[Value]) -> Value:
    nums = [a.as_number() for a in args]
    if not 1 <= len(nums) <= 3:
        raise FunctionError("must have one, two, or three arguments")
    start, step = Fraction(0), Fraction(1)
    if len(nums) == 1:
        end = nums[0]
    else:
        start, end = nums[0], nums[1]
        step = nums[2] if len(nums) == 3 else Fraction(1 if end >= start else -1)
    if step == 0:
        raise FunctionError("step must not be zero")
    if (end > start and step < 0) or (end < start and step > 0):
        raise FunctionError("step must be positive" if end > start else "step must be negative")
    out: list[Value] = []
    x = start
    while (x < end) if step > 0 else (x > end):
        if len(out) >= 1024:
            raise FunctionError("more than 1024 values were generated; either decrease the difference between start "
                                "and end or use a smaller step")
        out.append(number_val(x))
        x += step
    return Value(ListType(NUMBER), out)


def _index(args: list[Value]) -> Value:
    """Packer's own index(): lists and tuples only, and an empty list is an error."""
    if not isinstance(args[0].type, (ListType, TupleType)):
        raise FunctionError("argument must be a list or tuple")
    if not args[0].elements():
        raise FunctionError("cannot search an empty list")
    for i, e in enumerate(args[0].elements()):
        eq = equals(e, args[1])
        if not eq.is_known:
            return unknown_val(NUMBER)
        if eq.v is True:
            return number_val(i)
    raise FunctionError("item not found")


def _reverse(args: list[Value]) -> Value:
    val = args[0]
    if isinstance(val.type, SetType):
        raise FunctionError("can't reverse a set", 0)
    if not isinstance(val.type, (ListType, TupleType)):
        raise FunctionError("can only reverse list or tuple values", 0)
    elems = list(reversed(val.elements()))
    return tuple_val(elems) if isinstance(val.type, TupleType) else Value(val.type, elems)


def _slice(args: list[Value]) -> Value:
    val, start, end = args[0], args[1].as_number(), args[2].as_number()
    if isinstance(val.type, SetType):
        raise FunctionError("cannot slice a set, because its elements do not have indices; explicitly convert to a "
                            "list if the ordering of the result is not important", 0)
    n = val.length()
    if start < 0 or start.denominator != 1:
        raise FunctionError("start index must not be less than zero", 1)
    if end > n or end.denominator != 1:
        raise FunctionError("end index must not be greater than the length of the list", 2)
    if start > end:
        raise FunctionError("start index must not be greater than end index", 1)
    elems = val.elements()[int(start) : int(end)]
    return tuple_val(elems) if isinstance(val.type, TupleType) else Value(val.type, elems)


def _sort(args: list[Value]) -> Value:
    elems = args[0].elements()
    if any(e.is_null for e in elems):
        raise FunctionError("given list element is null; a null string cannot be sorted", 0)
    return Value(ListType(STRING), sorted(elems, key=lambda e: e.as_str()))


def _chunklist(args: list[Value]) -> Value:
    lst, size = args[0], args[1].as_number()
    if size < 0:
        raise FunctionError("the size argument must be positive", 1)
    elems = lst.elements()
    if size == 0:
        return Value(ListType(lst.type), [lst] if elems else [])
    k = int(size)
    return Value(ListType(lst.type), [Value(lst.type, elems[i : i + k]) for i in range(0, len(elems), k)])


def _zipmap(args: list[Value]) -> Value:
    keys, vals = args[0].elements(), args[1].elements()
    if len(keys) != len(vals):
        raise FunctionError(f"number of keys ({len(keys)}) does not match number of values ({len(vals)})")
    items = {k.as_str(): v for k, v in zip(keys, vals, strict=True)}
    if isinstance(args[1].type, TupleType):
        return object_val(items)
    return Value(MapType(args[1].type.elem), dict(sorted(items.items())))  # type: ignore[attr-defined]


def _set_op(op: str) -> object:
    def impl(args: list[Value]) -> Value:
        sets = [[e for e in a.elements()] for a in args]
        result = sets[0]
        for other in sets[1:]:
            keep = [e for e in result if any(e.raw_equals(o) for o in other)]
            result = result + other if op == "union" else keep
        ety = unify([a.type.elem for a in args]) or DYNAMIC  # type: ignore[attr-defined]
        return set_val([convert(e, ety) for e in result], ety)

    return make([Param("first_set", SetType(DYNAMIC))], DYNAMIC, impl, Param("other_sets", SetType(DYNAMIC)))


def _setproduct(args: list[Value]) -> Value:
    import itertools

    if len(args) < 2:
        raise FunctionError("at least two arguments are required")
    for i, a in enumerate(args):
        if not isinstance(a.type, _SEQ):
            raise FunctionError("a set or a list is required", i)
    rows = [tuple_val(combo) for combo in itertools.product(*(a.elements() for a in args))]
    if all(isinstance(a.type, SetType) for a in args):
        return set_val(rows, rows[0].type if rows else DYNAMIC)
    if not rows:
        return Value(ListType(DYNAMIC), [])
    ety = unify([r.type for r in rows])
    if ety is None:
        return tuple_val(rows)
    return Value(ListType(ety), [convert(r, ety) for r in rows])


def _truth(all_: bool) -> object:
    def impl(args: list[Value]) -> Value:
        vals = [e for e in args[0].elements()]
        if all_:
            return bool_val(all(e.v is True for e in vals))
        return bool_val(any(e.v is True for e in vals))

    return make([Param("list", ListType(BOOL))], BOOL, impl)


FUNCTIONS = {
    "length": make([Param("value", DYNAMIC)], NUMBER, _length),
    "concat": make([], DYNAMIC, _concat, Param("seqs", DYNAMIC)),
    "merge": make([], DYNAMIC, _merge, Param("maps", DYNAMIC, allow_null=True)),
    "keys": make([Param("inputMap", DYNAMIC)], DYNAMIC, _keys),
    "values": make([Param("mapping", DYNAMIC)], DYNAMIC, _values),
    "lookup": make([Param("inputMap", DYNAMIC), Param("key", STRING)], DYNAMIC, _lookup,
                   Param("default", DYNAMIC, allow_null=True)),
    "element": make([_ANY, Param("index", NUMBER)], DYNAMIC, _element),
    "contains": make([_ANY, Param("value", DYNAMIC)], BOOL, _contains),
    "flatten": make([_ANY], DYNAMIC, _flatten),
    "distinct": make([Param("list", ListType(DYNAMIC))], DYNAMIC, _distinct),
    "coalesce": make([], DYNAMIC, _coalesce, Param("vals", DYNAMIC, allow_null=True)),
    "coalescelist": make([], DYNAMIC, _coalescelist, Param("vals", DYNAMIC, allow_null=True)),
    "compact": make([Param("list", ListType(STRING))], ListType(STRING), _compact),
    "range": make([], ListType(NUMBER), _range, Param("params", NUMBER)),
    "index": make([_ANY, Param("value", DYNAMIC)], NUMBER, _index),
    "reverse": make([_ANY], DYNAMIC, _reverse),
    "slice": make([_ANY, Param("start_index", NUMBER), Param("end_index", NUMBER)], DYNAMIC, _slice),
    "sort": make([Param("list", ListType(STRING))], ListType(STRING), _sort),
    "chunklist": make([Param("list", ListType(DYNAMIC)), Param("size", NUMBER)], DYNAMIC, _chunklist),
    "zipmap": make([Param("keys", ListType(STRING)), Param("values", DYNAMIC)], DYNAMIC, _zipmap),
    "setunion": _set_op("union"),
    "setintersection": _set_op("intersection"),
    "setproduct": make([], DYNAMIC, _setproduct, Param("sets", DYNAMIC)),
    "alltrue": _truth(True),
    "anytrue": _truth(False),
    "sum": make([_ANY], NUMBER, SUM),
}
_ = as_list

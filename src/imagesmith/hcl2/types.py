"""cty's type system: primitive, collection and structural types, plus the dynamic pseudo-type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class Type:
    """Base of every type. Types are immutable, compared and hashed by structure."""

    __slots__ = ()

    def friendly_name(self) -> str:
        raise NotImplementedError

    def is_collection(self) -> bool:
        return isinstance(self, (ListType, SetType, MapType))

    def is_primitive(self) -> bool:
        return isinstance(self, PrimitiveType)

    def has_dynamic(self) -> bool:
        """Whether the dynamic pseudo-type appears anywhere in this type."""
        return False

    def __repr__(self) -> str:
        return type_string(self)


class PrimitiveType(Type):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def friendly_name(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrimitiveType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("p", self.name))


class DynamicType(Type):
    """cty.DynamicPseudoType: "any type", the type of a value not yet known."""

    __slots__ = ()

    def friendly_name(self) -> str:
        return "dynamic"

    def has_dynamic(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DynamicType)

    def __hash__(self) -> int:
        return hash("dynamic")


class _CollectionType(Type):
    __slots__ = ("elem",)
    kind = ""

    def __init__(self, elem: Type) -> None:
        self.elem = elem

    def friendly_name(self) -> str:
        return f"{self.kind} of {self.elem.friendly_name()}"

    def has_dynamic(self) -> bool:
        return self.elem.has_dynamic()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.elem == self.elem

    def __hash__(self) -> int:
        return hash((self.kind, self.elem))


class ListType(_CollectionType):
    __slots__ = ()
    kind = "list"


class SetType(_CollectionType):
    __slots__ = ()
    kind = "set"


class MapType(_CollectionType):
    __slots__ = ()
    kind = "map"


class TupleType(Type):
    __slots__ = ("elems",)

    def __init__(self, elems: Sequence[Type]) -> None:
        self.elems = tuple(elems)

    def friendly_name(self) -> str:
        return "tuple"

    def has_dynamic(self) -> bool:
        return any(t.has_dynamic() for t in self.elems)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TupleType) and other.elems == self.elems

    def __hash__(self) -> int:
        return hash(("tuple", self.elems))


class ObjectType(Type):
    __slots__ = ("attrs", "optional")

    def __init__(self, attrs: Mapping[str, Type], optional: frozenset[str] = frozenset()) -> None:
        self.attrs = dict(sorted(attrs.items()))
        self.optional = optional

    def friendly_name(self) -> str:
        return "object"

    def has_dynamic(self) -> bool:
        return any(t.has_dynamic() for t in self.attrs.values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectType) and other.attrs == self.attrs and other.optional == self.optional

    def __hash__(self) -> int:
        return hash(("object", tuple(self.attrs.items())))


STRING = PrimitiveType("string")
NUMBER = PrimitiveType("number")
BOOL = PrimitiveType("bool")
DYNAMIC = DynamicType()
EMPTY_OBJECT = ObjectType({})
EMPTY_TUPLE = TupleType(())


def type_string(t: Type) -> str:
    """The type in HCL type-constraint syntax, as ``typeexpr.TypeString`` writes it."""
    if isinstance(t, PrimitiveType):
        return t.name
    if isinstance(t, DynamicType):
        return "any"
    if isinstance(t, _CollectionType):
        return f"{t.kind}({type_string(t.elem)})"
    if isinstance(t, TupleType):
        return "tuple([" + ", ".join(type_string(e) for e in t.elems) + "])"
    if isinstance(t, ObjectType):
        inner = ", ".join(f"{k}={type_string(v)}" for k, v in t.attrs.items())
        return "object({" + inner + "})"
    return repr(t)


def element_type_of(t: Type) -> Type:
    """The element type of a collection type."""
    assert isinstance(t, _CollectionType)
    return t.elem


def conforms(got: Type, want: Type) -> bool:
    """Whether ``got`` conforms to ``want``, where ``want`` may hold the dynamic pseudo-type."""
    if isinstance(want, DynamicType):
        return True
    if type(got) is not type(want):
        return False
    if isinstance(want, PrimitiveType):
        return got == want
    if isinstance(want, _CollectionType):
        return conforms(got.elem, want.elem)  # type: ignore[attr-defined]
    if isinstance(want, TupleType):
        assert isinstance(got, TupleType)
        return len(got.elems) == len(want.elems) and all(
            conforms(g, w) for g, w in zip(got.elems, want.elems, strict=True)
        )
    if isinstance(want, ObjectType):
        assert isinstance(got, ObjectType)
        return got.attrs.keys() == want.attrs.keys() and all(
            conforms(got.attrs[k], w) for k, w in want.attrs.items()
        )
    return got == want

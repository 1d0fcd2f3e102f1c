"""Functions callable from HCL expressions, with cty's calling convention.

A :class:`Function` declares typed parameters; :meth:`Function.call` converts arguments, returns an
unknown result for unknown arguments, rejects nulls where not allowed, and carries the arguments'
marks (``sensitive``) to the result. Implementations raise :class:`FunctionError` to fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.types import DYNAMIC, Type
from imagesmith.hcl2.values import NO_MARKS, Value, unknown_val


class FunctionError(Exception):
    """A function failed; ``arg`` is the index of the argument to blame, if any."""

    def __init__(self, message: str, arg: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg


@dataclass(frozen=True)
class Param:
    name: str
    type: Type = DYNAMIC
    allow_null: bool = False
    allow_unknown: bool = False
    allow_marked: bool = False


Impl = Callable[[list[Value]], Value]
TypeFn = Callable[[list[Value]], Type]


@dataclass
class Function:
    """A function: positional ``params``, an optional variadic ``var_param``, ``impl`` and its result type."""

    params: list[Param]
    impl: Impl
    var_param: Param | None = None
    result: Type | TypeFn = DYNAMIC
    description: str = ""
    name: str = field(default="")
    # For try() and can(): called with the unevaluated call expression instead of values.
    lazy: Callable[..., Value] | None = None

    def param_for(self, i: int) -> Param | None:
        if i < len(self.params):
            return self.params[i]
        return self.var_param

    def result_type(self, args: list[Value]) -> Type:
        if isinstance(self.result, Type):
            return self.result
        try:
            return self.result(args)
        except Exception:  # a type function may not cope with unknowns; fall back to "any"
            return DYNAMIC

    def call(self, args: Sequence[Value]) -> Value:
        """Call with already-counted arguments; raises FunctionError on a bad argument or failure."""
        converted: list[Value] = []
        marks = NO_MARKS
        unknown = False
        for i, arg in enumerate(args):
            param = self.param_for(i)
            assert param is not None
            try:
                val = convert(arg, param.type)
            except ConversionError as exc:
                raise FunctionError(str(exc), i) from None
            if val.is_null and not param.allow_null:
                raise FunctionError("argument must not be null", i)
            if not param.allow_marked:
                val, arg_marks = unmark_deep(val)
                marks |= arg_marks
            if not param.allow_unknown and not val.is_wholly_known():
                unknown = True
            converted.append(val)
        if unknown:
            return unknown_val(self.result_type(converted)).with_marks(marks)
        try:
            result = self.impl(converted)
        except FunctionError:
            raise
        except (AssertionError, AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError):
            # an argument of a type the implementation does not take (parameters typed "any")
            types = ", ".join(a.type.friendly_name() for a in converted)
            raise FunctionError(f"unsupported argument types ({types})") from None
        return result.with_marks(marks) if marks else result


def unmark_deep(val: Value) -> tuple[Value, frozenset[str]]:
    """``val`` with every mark removed, and the marks removed."""
    marks = val.deep_marks()
    if not marks:
        return val, NO_MARKS
    return _strip(val), marks


def _strip(val: Value) -> Value:
    v = val.v
    if isinstance(v, list):
        v = [_strip(e) for e in v]
    elif isinstance(v, dict):
        v = {k: _strip(e) for k, e in v.items()}
    return Value(val.type, v)


def make(params: Sequence[Param], result: Type | TypeFn, impl: Impl, var_param: Param | None = None) -> Function:
    """Shorthand to declare a function."""
    return Function(list(params), impl, var_param, result)

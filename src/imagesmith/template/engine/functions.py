"""Function values the executor can call, with Go-like parameter types, and Go's builtins.

A template function is a :class:`GoFunc`: the Python callable plus the Go kinds of its
parameters (``string``, ``int``, ``bool``, ``any`` = ``interface{}``, ``value`` = ``reflect.Value``,
which also receives :data:`NO_VALUE`). The executor checks arguments as Go's ``evalArg`` does.
A function reports failure by raising :class:`FuncError` (or any ``ImagesmithError``/``ValueError``);
the executor turns it into ``error calling NAME: MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from imagesmith.template.engine.gofmt import NO_VALUE, sprint, sprintln, type_name
from imagesmith.template.engine.printf import sprintf


class FuncError(Exception):
    """A template function failed; the message is shown after ``error calling NAME:``."""


@dataclass(frozen=True)
class GoFunc:
    """A callable with Go parameter kinds. ``variadic`` is the kind of a trailing ``...`` parameter."""

    fn: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None

    @property
    def num_in(self) -> int:
        """Go's ``NumIn``: fixed parameters plus one for the variadic slice."""
        return len(self.params) + (1 if self.variadic else 0)


_ANNOTATION_KINDS = {str: "string", "str": "string", int: "int", "int": "int", bool: "bool", "bool": "bool"}


def as_gofunc(fn: Callable[..., Any] | GoFunc) -> GoFunc:
    """Wrap a plain Python callable: parameter kinds come from annotations (default ``string``)."""
    if isinstance(fn, GoFunc):
        return fn
    import inspect  # late: only extra functions from builders need it

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return GoFunc(fn, (), "any")
    params: list[str] = []
    variadic = None
    for p in sig.parameters.values():
        kind = _ANNOTATION_KINDS.get(p.annotation, "string" if p.annotation is inspect.Parameter.empty else "any")
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            variadic = kind
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            params.append(kind)
    return GoFunc(fn, tuple(params), variadic)


# -- comparisons (Go 1.19 text/template funcs.go semantics) ------------------------------
_BAD_TYPE = "invalid type for comparison"
_BAD_CMP = "incompatible types for comparison"


def _basic_kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return None


_BASIC_KINDS = frozenset({"bool", "int", "float", "string"})


def _kind(v: Any) -> str:
    if v is None or v is NO_VALUE:
        return "nil"
    return _basic_kind(v) or "other"


def go_eq(arg1: Any, *rest: Any) -> bool:
    """``eq arg1 arg2...``: true if arg1 equals any of the others (Go 1.19 rules)."""
    k1 = _kind(arg1)
    if k1 == "other" and not _comparable(arg1):
        raise FuncError(_BAD_TYPE)
    if not rest:
        raise FuncError("missing argument for comparison")
    for arg in rest:
        k2 = _kind(arg)
        if k1 in _BASIC_KINDS and k2 in _BASIC_KINDS:
            if k1 != k2:
                raise FuncError(_BAD_CMP)
            truth = bool(arg1 == arg)
        elif k1 in _BASIC_KINDS or k2 in _BASIC_KINDS:
            if "nil" not in (k1, k2):
                raise FuncError(_BAD_CMP)
            truth = False
        else:
            if k2 == "other" and not _comparable(arg):
                raise FuncError(_BAD_TYPE)
            truth = (k1 == k2 == "nil") or (k1 == k2 == "other" and bool(arg1 == arg))
        if truth:
            return True
    return False


def _comparable(v: Any) -> bool:
    return not isinstance(v, (list, dict, Mapping))


def go_ne(arg1: Any, arg2: Any) -> bool:
    """``ne a b``."""
    return not go_eq(arg1, arg2)


def go_lt(arg1: Any, arg2: Any) -> bool:
    """``lt a b`` for basic kinds of the same kind."""
    k1, k2 = _basic_kind(arg1), _basic_kind(arg2)
    if k1 is None or k2 is None:
        raise FuncError(_BAD_TYPE)
    if k1 != k2:
        raise FuncError(_BAD_CMP)
    if k1 == "bool":
        raise FuncError(_BAD_TYPE)
    return bool(arg1 < arg2)


def go_le(arg1: Any, arg2: Any) -> bool:
    """``le a b``."""
    return go_lt(arg1, arg2) or go_eq(arg1, arg2)


def go_gt(arg1: Any, arg2: Any) -> bool:
    """``gt a b``."""
    return not go_le(arg1, arg2)


def go_ge(arg1: Any, arg2: Any) -> bool:
    """``ge a b``."""
    return not go_lt(arg1, arg2)


# -- containers ------------------------------------------------------------------------
def go_len(item: Any) -> int:
    """``len x``: bytes of a string, elements of a list or map."""
    if item is NO_VALUE:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if item is None:
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode("utf-8"))
    if isinstance(item, (list, tuple, Mapping)):
        return len(item)
    raise FuncError(f"len of type {type_name(item)}")


def go_index(item: Any, *indexes: Any) -> Any:
    """``index x 1 2``: element of a string (a byte), list or map; a missing map key gives nil."""
    if item in (NO_VALUE, None):
        raise FuncError("index of untyped nil")
    for index in indexes:
        if item is None:
            raise FuncError("index of nil pointer")
        if isinstance(item, (str, list, tuple)):
            seq: Any = item.encode("utf-8") if isinstance(item, str) else item
            item = seq[_index_arg(index, len(seq))]
        elif isinstance(item, Mapping):
            if not isinstance(index, str):
                what = "nil" if index in (None, NO_VALUE) else type_name(index)
                raise FuncError(f"value has type {what}; should be string")
            item = item.get(index)
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def _index_arg(index: Any, length: int) -> int:
    if index in (None, NO_VALUE):
        raise FuncError("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index >= length:
        raise FuncError(f"index out of range: {index}")
    return index


def go_slice(item: Any, *indexes: Any) -> Any:
    """``slice x 1 2``: a sub-string or sub-list."""
    if item in (NO_VALUE, None):
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, (str, list, tuple)):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise FuncError("cannot 3-index slice a string")
    seq: Any = item.encode("utf-8") if isinstance(item, str) else item
    bounds = [0, len(seq)]
    for i, index in enumerate(indexes[:2]):
        bounds[i] = _index_arg(index, len(seq) + 1)
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    part = seq[bounds[0] : bounds[1]]
    return part.decode("utf-8", "replace") if isinstance(item, str) else list(part)


# -- escaping --------------------------------------------------------------------------
def _eval_args_text(args: tuple[Any, ...]) -> str:
    """Go's evalArgs: nil arguments print as "<no value>" (a string, for Sprint's spacing)."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(["<no value>" if a is None or a is NO_VALUE else a for a in args])


def go_html(*args: Any) -> str:
    """``html``: Go's HTMLEscapeString."""
    text = _eval_args_text(args)
    table = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
    return "".join(table.get(c, c) for c in text)


def go_js(*args: Any) -> str:
    """``js``: Go's JSEscapeString."""
    text = _eval_args_text(args)
    out: list[str] = []
    table = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}
    for c in text:
        if c in table:
            out.append(table[c])
        elif ord(c) < 0x20 or (ord(c) >= 0x80 and not c.isprintable()):
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


def go_urlquery(*args: Any) -> str:
    """``urlquery``: Go's url.QueryEscape."""
    import urllib.parse

    return urllib.parse.quote_plus(_eval_args_text(args), safe="-_.~")


def go_print(*args: Any) -> str:
    """``print``."""
    return sprint(args)


def go_println(*args: Any) -> str:
    """``println``."""
    return sprintln(args)


def go_printf(fmt: str, *args: Any) -> str:
    """``printf``."""
    return sprintf(fmt, args)


def go_not(arg: Any) -> bool:
    """``not x``."""
    from imagesmith.template.engine.executor import is_true

    return not is_true(arg)


def go_call(fn: Any, *args: Any) -> Any:
    """``call f args``: only callables stored in data can be called."""
    if fn in (None, NO_VALUE):
        raise FuncError("call of nil")
    if not callable(fn):
        raise FuncError(f"non-function of type {type_name(fn)}")
    try:
        return fn(*args)
    except (TypeError, ValueError) as exc:
        raise FuncError(str(exc)) from None


AND_OR = frozenset({"and", "or"})

BUILTINS: dict[str, GoFunc] = {
    "and": GoFunc(lambda *a: a[-1], ("value",), "value"),
    "or": GoFunc(lambda *a: a[-1], ("value",), "value"),
    "not": GoFunc(go_not, ("value",)),
    "len": GoFunc(go_len, ("value",)),
    "index": GoFunc(go_index, ("value",), "value"),
    "slice": GoFunc(go_slice, ("value",), "value"),
    "call": GoFunc(go_call, ("value",), "value"),
    "print": GoFunc(go_print, (), "any"),
    "printf": GoFunc(go_printf, ("string",), "any"),
    "println": GoFunc(go_println, (), "any"),
    "html": GoFunc(go_html, (), "any"),
    "js": GoFunc(go_js, (), "any"),
    "urlquery": GoFunc(go_urlquery, (), "any"),
    "eq": GoFunc(go_eq, ("value",), "value"),
    "ne": GoFunc(go_ne, ("value", "value")),
    "lt": GoFunc(go_lt, ("value", "value")),
    "le": GoFunc(go_le, ("value", "value")),
    "gt": GoFunc(go_gt, ("value", "value")),
    "ge": GoFunc(go_ge, ("value", "value")),
}

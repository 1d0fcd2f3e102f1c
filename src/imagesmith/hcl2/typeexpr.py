"""Type constraint expressions: ``string``, ``list(number)``, ``object({a = string})``, ``any``...

As ``ext/typeexpr``: the expression is read statically (never evaluated).
"""

from __future__ import annotations

from imagesmith.hcl2 import ast
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.parser import parse_expression
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

_KEYWORDS = {"string": STRING, "number": NUMBER, "bool": BOOL, "any": DYNAMIC}
_COLLECTIONS = {"list": ListType, "map": MapType, "set": SetType}
_INVALID = "Invalid type specification"


def get_type(expr: ast.Expr, diags: Diagnostics, allow_optional: bool = False) -> Type:
    """The type ``expr`` names; a diagnostic and DYNAMIC if it names none."""
    native = _json_string_as_expression(expr, diags)
    if native is not None:
        return get_type(native, diags, allow_optional)
    if isinstance(expr, ast.Parentheses):
        return get_type(expr.expr, diags, allow_optional)
    if isinstance(expr, ast.ScopeTraversal) and len(expr.traversal) == 1:
        name = expr.traversal[0].name  # type: ignore[union-attr]
        if name in _KEYWORDS:
            return _KEYWORDS[name]
        if name in _COLLECTIONS or name in ("tuple", "object"):
            diags.add(_INVALID, f"The {name} type constructor requires one argument specifying the element type"
                      + (" or attribute types." if name == "object" else "."), expr.range)
        else:
            diags.add(_INVALID, f'The keyword "{name}" is not a valid type specification.', expr.range)
        return DYNAMIC
    if isinstance(expr, ast.FunctionCall):
        return _call_type(expr, diags, allow_optional)
    diags.add(_INVALID, "A type specification is either a primitive type keyword (bool, number, string) or a complex "
              "type constructor call, like list(string).", expr.range)
    return DYNAMIC


def _json_string_as_expression(expr: ast.Expr, diags: Diagnostics) -> ast.Expr | None:
    """In JSON syntax a type is written as a string holding the native expression (``"list(string)"``)."""
    from imagesmith.hcl2.json_body import JSONExpr
    from imagesmith.hcl2.json_parser import JString
    from imagesmith.hcl2.source import SourceFile

    if not isinstance(expr, JSONExpr) or not isinstance(expr.node, JString):
        return None
    start = expr.node.range.start_pos
    source = SourceFile(expr.range.filename, expr.node.value, start.line, start.byte + 1, start.column + 1)
    native, pdiags = parse_expression(expr.node.value, source=source)
    diags.extend(pdiags)
    return None if pdiags.has_errors() else native


def _call_type(expr: ast.FunctionCall, diags: Diagnostics, allow_optional: bool) -> Type:
    name = expr.name
    if name in _KEYWORDS:
        diags.add(_INVALID, f"Primitive type keyword \"{name}\" does not expect arguments.", expr.range)
        return DYNAMIC
    if len(expr.args) != 1:
        diags.add(_INVALID, f"The {name} type constructor requires one argument.", expr.range)
        return DYNAMIC
    arg = expr.args[0]
    if name in _COLLECTIONS:
        return _COLLECTIONS[name](get_type(arg, diags))
    if name == "tuple":
        if not isinstance(arg, ast.TupleCons):
            diags.add(_INVALID, "Tuple type constructor requires a list of element types.", arg.range)
            return DYNAMIC
        return TupleType([get_type(e, diags) for e in arg.exprs])
    if name == "object":
        return _object_type(arg, diags)
    if name == "optional" and allow_optional:
        return get_type(arg, diags)
    diags.add(_INVALID, f'Keyword "{name}" is not a valid type constructor.', expr.range)
    return DYNAMIC


def _object_type(arg: ast.Expr, diags: Diagnostics) -> Type:
    if not isinstance(arg, ast.ObjectCons):
        diags.add(_INVALID, "Object type constructor requires a map whose keys are attribute names and whose values "
                  "are the corresponding attribute types.", arg.range)
        return DYNAMIC
    attrs: dict[str, Type] = {}
    optional: set[str] = set()
    for key, val in arg.items:
        name = key.as_keyword()
        if name is None and isinstance(key.wrapped, ast.Template) and key.wrapped.is_string_literal():
            lit = key.wrapped.parts[0]
            assert isinstance(lit, ast.LiteralValue)
            name = lit.value.as_str()
        if name is None:
            diags.add(_INVALID, "Object constructor map keys must be attribute names.", key.range)
            continue
        if isinstance(val, ast.FunctionCall) and val.name == "optional":
            optional.add(name)
        attrs[name] = get_type(val, diags, allow_optional=True)
    return ObjectType(attrs, frozenset(optional))


def parse_type(text: str, filename: str = "<type>") -> tuple[Type, Diagnostics]:
    """Parse and read a type constraint from text."""
    expr, diags = parse_expression(text, filename)
    if diags.has_errors():
        return DYNAMIC, diags
    return get_type(expr, diags), diags

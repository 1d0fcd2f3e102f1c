"""Input variables and locals: declarations, value precedence, type checks, validation, and locals
evaluated in dependency order.

Precedence, lowest first: ``default`` < ``PKR_VAR_<name>`` < ``*.auto.pkrvars.hcl`` files <
``-var``/``-var-file`` in command-line order (as current Packer).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import AttributeSchema, BlockSchema, BodySchema, ContentBlock, HCLBody
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import WARNING, Diagnostic, Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.function import Function, Param, make
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.packer.model import Local, Template, Validation, Variable
from imagesmith.hcl2.parser import parse_expression
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.typeexpr import get_type
from imagesmith.hcl2.types import BOOL, DYNAMIC, STRING, ObjectType, PrimitiveType, TupleType
from imagesmith.hcl2.values import SENSITIVE, Value, object_val, string_val

VARIABLE_SCHEMA = BodySchema(
    [AttributeSchema("description"), AttributeSchema("default"), AttributeSchema("type"),
     AttributeSchema("sensitive")],
    [BlockSchema("validation")],
)
VALIDATION_SCHEMA = BodySchema([AttributeSchema("condition", True), AttributeSchema("error_message", True)])
LOCAL_SCHEMA = BodySchema([AttributeSchema("expression", True), AttributeSchema("sensitive")])


def _env_function() -> dict[str, Function]:
    return {"env": make([Param("key", STRING)], STRING, lambda a: string_val(os.environ.get(a[0].as_str(), "")))}


def _static(expr: ast.Expr, want: PrimitiveType, diags: Diagnostics) -> Value | None:
    val = evaluate(expr, EvalContext(), diags)
    try:
        return convert(val, want)
    except ConversionError as exc:
        diags.add("Incorrect attribute value type", f"Inappropriate value for attribute: {exc}.", expr.range)
        return None


def decode_variable(block: ContentBlock, tpl: Template, diags: Diagnostics) -> None:
    name = block.labels[0]
    if name in tpl.variables:
        diags.add("Duplicate variable", f"Duplicate {name} variable definition found.", None, block.def_range)
        return
    content, cdiags = block.body.content(VARIABLE_SCHEMA)
    diags.extend(cdiags)
    var = Variable(name, block.def_range)
    attrs = content.attributes
    if "description" in attrs and (d := _static(attrs["description"].expr, STRING, diags)) is not None:
        var.description = d.as_str() if not d.is_null else ""
    if "type" in attrs:
        mark = len(diags)
        var.type = get_type(attrs["type"].expr, diags)
        if diags.has_errors_since(mark):
            return
    if "sensitive" in attrs and (s := _static(attrs["sensitive"].expr, BOOL, diags)) is not None:
        var.sensitive = bool(s.v)
    if "default" in attrs:
        expr = attrs["default"].expr
        functions = {**standard_functions(), **_env_function()}
        mark = len(diags)
        default = evaluate(expr, EvalContext(None, functions), diags)
        if diags.has_errors_since(mark):
            return
        try:
            default = convert(default, var.type)
        except ConversionError as exc:
            diags.add("Invalid default value for variable", "This default value is not compatible with the "
                      f"variable's type constraint: {exc}.", expr.range)
        var.default = default
        if var.type == DYNAMIC and default.type not in (ObjectType({}), TupleType([])):
            var.type = default.type
    for vblock in content.blocks:
        vcontent, vdiags = vblock.body.content(VALIDATION_SCHEMA)
        diags.extend(vdiags)
        if vdiags.has_errors():
            continue
        msg = _static(vcontent.attributes["error_message"].expr, STRING, diags)
        var.validations.append(Validation(vcontent.attributes["condition"].expr, msg.as_str() if msg else "",
                                          vblock.def_range))
    tpl.variables[name] = var


def decode_legacy_variables(body: HCLBody, tpl: Template, diags: Diagnostics) -> None:
    """The ``variables { name = default }`` form."""
    attrs, adiags = body.just_attributes()
    diags.extend(adiags)
    for name, attr in attrs.items():
        if name in tpl.variables:
            diags.add("Duplicate variable", f"Duplicate {name} variable definition found.", None, attr.name_range)
            continue
        default = evaluate(attr.expr, EvalContext(None, {**standard_functions(), **_env_function()}), diags)
        tpl.variables[name] = Variable(name, attr.range, default.type, default)


def assign_values(tpl: Template, env: Mapping[str, str], assignments: list[tuple[str, str, ast.Expr | str]],
                  diags: Diagnostics) -> None:
    """Apply values: defaults, then PKR_VAR_ environment variables, then ``assignments`` in order
    (``(origin, name, expression or raw -var string)``), then check types, required values and validations."""
    for var in tpl.variables.values():
        if var.default is not None:
            var.value, var.value_from = var.default, "default"
            var.value_range = var.range
    for key, raw in sorted(env.items()):
        if key.startswith("PKR_VAR_") and key[8:] in tpl.variables:
            _assign_raw(tpl.variables[key[8:]], raw, "env", diags)
    for origin, name, value in assignments:
        found = tpl.variables.get(name)
        if found is None:
            _undeclared(origin, name, value, diags)
            continue
        if isinstance(value, str):
            _assign_raw(found, value, origin, diags)
        else:
            val = evaluate(value, EvalContext(), diags)
            _set(found, val, origin, value.range, diags)
    for var in tpl.variables.values():
        if var.sensitive and var.value is not None:
            var.value = var.value.with_marks({SENSITIVE})


def _undeclared(origin: str, name: str, value: ast.Expr | str, diags: Diagnostics) -> None:
    if origin == "cmd":
        diags.add("Undefined -var variable", f'A "{name}" variable was passed in the command line but was not found '
                  f'in known variables. To declare variable "{name}", place this block in one of your .pkr files, '
                  "such as variables.pkr.hcl", None)
        return
    # a var file setting an undeclared variable is a warning (current Packer; 1.6.6 made it an error)
    context = value.range if isinstance(value, ast.Expr) else None
    diags.append(Diagnostic(
        "Undefined variable",
        f'The variable "{name}" was set but was not declared as an input variable.\nTo declare variable "{name}" '
        f'place this block in one of your .pkr.hcl files, such as variables.pkr.hcl\n\nvariable "{name}" {{\n'
        "  type    = string\n  default = null\n}", context, None, WARNING))


def _assign_raw(var: Variable, raw: str, origin: str, diags: Diagnostics) -> None:
    """A -var or environment value: a plain string unless the type is complex, then an HCL expression."""
    if isinstance(var.type, PrimitiveType) or var.type == DYNAMIC:
        _set(var, string_val(raw), origin, None, diags)
        return
    expr, pdiags = parse_expression(raw, f"<value for var.{var.name} from {origin}>")
    diags.extend(pdiags)
    if not pdiags.has_errors():
        _set(var, evaluate(expr, EvalContext(), diags), origin, expr.range, diags)


def _set(var: Variable, val: Value, origin: str, where: object, diags: Diagnostics) -> None:
    try:
        var.value, var.value_from = convert(val, var.type), origin
        var.value_range = where if isinstance(where, Range) else None
    except ConversionError as exc:
        var.value_from = "invalid"  # reported here; not "unset" as well
        if origin == "cmd":
            diags.add("Invalid argument value for -var variable", f"The received arg value for {var.name} is not "
                      f"compatible with the variable's type constraint: {exc}.", None)
            return
        summary = "Invalid value for variable" if origin == "varfile" else f"Invalid value for {origin} variable"
        diags.add(summary, f"The value for {var.name} is not compatible with the variable's type constraint: {exc}.",
                  where)  # type: ignore[arg-type]


def check_variables(tpl: Template, used: set[str], diags: Diagnostics) -> None:
    """Every variable has a value (Packer 1.6.6 and current Packer ask it even of unused ones;
    ``used`` is kept for callers), and every validation condition is true."""
    for var in tpl.variables.values():
        if var.value is None:
            if var.value_from == "invalid":
                continue
            diags.add(f'Unset variable "{var.name}"', "A used variable must be set or have a default value; "
                      "see https://packer.io/docs/templates/hcl_templates/syntax for details.", var.range)
            continue
        for v in var.validations:
            ctx = EvalContext({"var": object_val({var.name: var.value})}, standard_functions())
            result = evaluate(v.condition, ctx, diags)
            if result.is_known and not result.is_null and result.v is False:
                diags.add(f"Invalid value for {var.value_from} variable", f"{v.error_message}\n\nThis was checked "
                          f"by the validation rule at {v.range}.", var.value_range or var.range)


def decode_locals(body: HCLBody, tpl: Template, diags: Diagnostics) -> None:
    attrs, adiags = body.just_attributes()
    diags.extend(adiags)
    for name, attr in attrs.items():
        _add_local(tpl, Local(name, attr.expr, attr.range), diags)


def decode_local_block(block: ContentBlock, tpl: Template, diags: Diagnostics) -> None:
    content, cdiags = block.body.content(LOCAL_SCHEMA)
    diags.extend(cdiags)
    if "expression" not in content.attributes:
        return
    sensitive = False
    if "sensitive" in content.attributes and (s := _static(content.attributes["sensitive"].expr, BOOL, diags)):
        sensitive = bool(s.v)
    _add_local(tpl, Local(block.labels[0], content.attributes["expression"].expr, block.def_range, sensitive), diags)


def _add_local(tpl: Template, local: Local, diags: Diagnostics) -> None:
    if local.name in tpl.locals:
        diags.add("Duplicate local definition", f'Local variable "{local.name}" is defined twice, first at '
                  f"{tpl.locals[local.name].range}.", local.range)
        return
    tpl.locals[local.name] = local

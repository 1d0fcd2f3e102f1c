"""Executes a parsed template against data, following Go 1.19's ``text/template/exec.go``.

Errors read ``template: root:1:3: executing "root" at <env "HOME">: error calling env: ...``,
with the node Go would blame and the same line:column arithmetic.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, NoReturn

from imagesmith.errors import RenderError
from imagesmith.template.engine import nodes as n
from imagesmith.template.engine.functions import AND_OR, BUILTINS, GoFunc, as_gofunc
from imagesmith.template.engine.gofmt import NO_VALUE, format_value, type_name
from imagesmith.template.engine.parser import TEMPLATE_NAME, Template, location
from imagesmith.template.engine.quoting import go_quote

MAX_TEMPLATE_DEPTH = 100

_ONLY_IN_VARIABLES = (
    "only variable defaults may read the environment or secret stores: declare a variable whose default "
    "is this expression and use {{user `name`}} here"
)
# Next steps for the errors Packer's functions give, keyed by their (Packer-compatible) message.
_HINTS = {
    "env vars are not allowed here": _ONLY_IN_VARIABLES,
    "consul_key is not allowed here": _ONLY_IN_VARIABLES,
    "Vault vars are only allowed in the variables section": _ONLY_IN_VARIABLES,
    "AWS Secrets Manager is only allowed in the variables section": _ONLY_IN_VARIABLES,
    "build_name not available": "build_name works in builder, provisioner and post-processor fields, not in variables",
    "build_type not available": "build_type works in builder, provisioner and post-processor fields, not in variables",
}


class _Missing:
    """Go's ``missingVal``: no piped-in final argument."""


_MISSING = _Missing()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def is_true(value: Any) -> bool:
    """Go's ``isTrue``: empty, zero, nil and missing values are false."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, (bool, int, float, complex)):
        return bool(value)
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) > 0
    return True


class Executor:
    """One execution of a template: output buffer, variable stack, and the node being evaluated."""

    def __init__(self, tmpl: Template, funcs: Mapping[str, GoFunc], depth: int = 0, name: str = TEMPLATE_NAME):
        self.tmpl = tmpl
        self.funcs = funcs
        self.out: list[str] = []
        self.vars: list[tuple[str, Any]] = []
        self.node: n.Node | None = None
        self.depth = depth
        self.name = name

    # -- plumbing ------------------------------------------------------------------------
    def at(self, node: n.Node) -> None:
        self.node = node

    def error(self, msg: str, hint: str = "") -> NoReturn:
        if self.node is None:
            raise RenderError(f"template: {self.name}: {msg}", hint)
        where = location(self.tmpl.text, self.node.pos)
        raise RenderError(f'template: {where}: executing "{self.name}" at <{self.node}>: {msg}', hint)

    def var_value(self, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        self.error(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.error(f"undefined variable: {name}")

    def set_top_var(self, depth: int, value: Any) -> None:
        name = self.vars[-depth][0]
        self.vars[-depth] = (name, value)

    # -- statements ----------------------------------------------------------------------
    def execute(self, root: n.ListNode, dot: Any) -> str:
        """Run ``root`` with ``dot`` as data and return the output."""
        self.vars = [("$", dot)]
        self.walk(dot, root)
        return "".join(self.out)

    def walk(self, dot: Any, node: n.Node) -> None:
        self.at(node)
        if isinstance(node, n.TextNode):
            self.out.append(node.text)
        elif isinstance(node, n.ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.out.append(format_value(value))
        elif isinstance(node, n.ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, n.BranchNode):
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, node)
        else:
            self.error(f"unknown node: {node}")

    def walk_if_or_with(self, dot: Any, node: n.BranchNode) -> None:
        mark = len(self.vars)
        value = self.eval_pipeline(dot, node.pipe)
        if is_true(value):
            self.walk(value if node.keyword == "with" else dot, node.body)
        elif node.else_body is not None:
            self.walk(dot, node.else_body)
        del self.vars[mark:]

    def walk_range(self, dot: Any, node: n.BranchNode) -> None:
        self.at(node)
        value = self.eval_pipeline(dot, node.pipe)
        mark = len(self.vars)
        items: list[tuple[Any, Any]]
        if isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, Mapping):
            items = [(k, value[k]) for k in sorted(value, key=lambda k: (str(type(k)), k))]
        elif value is NO_VALUE:
            items = []
        else:
            shown = "<nil>" if value is None else format_value(value)
            self.error(f"range can't iterate over {shown}")
        for index, elem in items:
            if node.pipe.decl:
                self.set_top_var(1, elem)
            if len(node.pipe.decl) > 1:
                self.set_top_var(2, index)
            try:
                self.walk(elem, node.body)
            except _Continue:
                pass
            except _Break:
                break
            finally:
                del self.vars[mark:]
        if not items and node.else_body is not None:
            self.walk(dot, node.else_body)
        del self.vars[mark:]

    def walk_template(self, dot: Any, node: n.TemplateNode) -> None:
        body = self.tmpl.defines.get(node.name)
        if body is None:
            self.error(f"template {go_quote(node.name)} not defined")
        if self.depth >= MAX_TEMPLATE_DEPTH:
            self.error(f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else NO_VALUE
        sub = Executor(self.tmpl, self.funcs, self.depth + 1, node.name)
        self.out.append(sub.execute(body, new_dot))

    # -- expressions ---------------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: n.PipeNode) -> Any:
        self.at(pipe)
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.idents[0], value)
            else:
                self.vars.append((var.idents[0], value))
        return value

    def eval_command(self, dot: Any, cmd: n.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, n.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, n.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, n.VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return first.value
        if isinstance(first, n.DotNode):
            return dot
        if isinstance(first, n.NilNode):
            self.error("nil is not a command")
        if isinstance(first, n.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, n.StringNode):
            return first.text
        self.error(f"can't evaluate command {go_quote(str(first))}")

    def not_a_function(self, args: list[n.Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            self.error(f"can't give argument to non-function {args[0]}")

    def ideal_constant(self, num: n.NumberNode) -> Any:
        if num.as_complex is not None:
            return num.as_complex
        if num.is_float_syntax and num.as_float is not None:
            return num.as_float
        if num.as_int is not None and -(2**63) <= num.as_int < 2**63:
            return num.as_int
        self.error(f"{num.text} overflows int")

    def eval_field_node(self, dot: Any, field: n.FieldNode, args: list[n.Node] | None, final: Any) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.idents, args, final)

    def eval_chain_node(self, dot: Any, chain: n.ChainNode, args: list[n.Node] | None, final: Any) -> Any:
        self.at(chain)
        if isinstance(chain.node, n.NilNode):
            self.error(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, "raw", chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable_node(self, dot: Any, var: n.VariableNode, args: list[n.Node] | None, final: Any) -> Any:
        self.at(var)
        value = self.var_value(var.idents[0])
        if len(var.idents) == 1:
            self.not_a_function(args or [var], final)
            return value
        return self.eval_field_chain(dot, value, var, var.idents[1:], args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, node: n.Node, idents: list[str], args: list[n.Node] | None, final: Any
    ) -> Any:
        for ident in idents[:-1]:
            receiver = self.eval_field(dot, ident, node, None, _MISSING, receiver)
        return self.eval_field(dot, idents[-1], node, args, final, receiver)

    def eval_field(
        self, dot: Any, name: str, node: n.Node, args: list[n.Node] | None, final: Any, receiver: Any
    ) -> Any:
        if receiver is NO_VALUE:
            return NO_VALUE
        if receiver is None:
            self.error(f"nil pointer evaluating interface {{}}.{name}")
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if isinstance(receiver, Mapping):
            if has_args:
                self.error(f"{name} is not a method but has arguments")
            return receiver.get(name, NO_VALUE)
        if isinstance(receiver, (str, int, float, list, tuple)) or name.startswith("_"):
            self.error(f"can't evaluate field {name} in type {type_name(receiver)}")
        try:
            attr = getattr(receiver, name)
        except Exception:  # any failing attribute is "no such field" to the template
            self.error(f"can't evaluate field {name} in type {type_name(receiver)}")
        if isinstance(attr, types.MethodType):
            return self.eval_call(dot, as_gofunc(attr), node, name, args, final)
        if has_args:
            self.error(f"{name} has arguments but cannot be invoked as function")
        return attr

    def eval_function(
        self, dot: Any, ident: n.IdentifierNode, cmd: n.Node, args: list[n.Node] | None, final: Any
    ) -> Any:
        self.at(ident)
        fn = self.funcs.get(ident.name)
        if fn is None:
            self.error(f"{go_quote(ident.name)} is not a defined function")
        is_and_or = ident.name in AND_OR and fn is BUILTINS[ident.name]
        return self.eval_call(dot, fn, cmd, ident.name, args, final, is_and_or)

    def eval_call(  # mirrors Go's evalCall step by step
        self,
        dot: Any,
        fn: GoFunc,
        node: n.Node,
        name: str,
        args: list[n.Node] | None,
        final: Any,
        is_and_or: bool = False,
    ) -> Any:
        call_args = args[1:] if args is not None else []
        num_in = len(call_args) + (0 if final is _MISSING else 1)
        num_fixed = len(call_args)
        if fn.variadic:
            num_fixed = len(fn.params)
            if num_in < num_fixed:
                self.error(f"wrong number of args for {name}: want at least {num_fixed} got {len(call_args)}")
        elif num_in != len(fn.params):
            self.error(f"wrong number of args for {name}: want {len(fn.params)} got {num_in}")
        if is_and_or:
            result: Any = NO_VALUE
            for arg in call_args:
                result = self.eval_arg(dot, "value", arg)
                if is_true(result) == (name == "or"):
                    return result
            if final is not _MISSING:
                result = final
            return result
        argv: list[Any] = []
        for i, arg in enumerate(call_args):
            kind = fn.params[i] if i < num_fixed else fn.variadic
            argv.append(self.eval_arg(dot, kind or "any", arg))
        if final is not _MISSING:
            kind = fn.params[-1] if fn.params and not fn.variadic else None
            if fn.variadic:
                kind = fn.params[num_in - 1] if num_in - 1 < num_fixed else fn.variadic
            argv.append(self.validate_type(final, kind or "any"))
        try:
            return fn.fn(*argv)
        except RecursionError:
            raise
        except Exception as exc:  # a function's failure becomes a located template error
            message = exc.message if isinstance(exc, RenderError) else str(exc)
        self.at(node)
        self.error(f"error calling {name}: {message}", _HINTS.get(message, ""))

    def eval_arg(self, dot: Any, kind: str, node: n.Node) -> Any:
        self.at(node)
        if isinstance(node, n.DotNode):
            return self.validate_type(dot, kind)
        if isinstance(node, n.NilNode):
            if kind in ("any", "value"):
                return None if kind == "any" else NO_VALUE
            self.error(f"cannot assign nil to {kind}")
        if isinstance(node, n.FieldNode):
            return self.validate_type(self.eval_field_node(dot, node, [node], _MISSING), kind)
        if isinstance(node, n.VariableNode):
            return self.validate_type(self.eval_variable_node(dot, node, None, _MISSING), kind)
        if isinstance(node, n.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, node), kind)
        if isinstance(node, n.IdentifierNode):
            return self.validate_type(self.eval_function(dot, node, node, None, _MISSING), kind)
        if isinstance(node, n.ChainNode):
            return self.validate_type(self.eval_chain_node(dot, node, None, _MISSING), kind)
        if kind == "bool":
            if isinstance(node, n.BoolNode):
                return node.value
            self.error(f"expected bool; found {node}")
        if kind == "int":
            if isinstance(node, n.NumberNode) and node.as_int is not None:
                return node.as_int
            self.error(f"expected integer; found {node}")
        if kind == "string":
            if isinstance(node, n.StringNode):
                return node.text
            self.error(f"expected string; found {node}")
        if isinstance(node, n.BoolNode):
            return node.value
        if isinstance(node, n.NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, n.StringNode):
            return node.text
        self.error(f"can't handle {node} for arg of type {kind}")

    def validate_type(self, value: Any, kind: str) -> Any:
        if value is NO_VALUE:
            if kind == "any":
                return None
            if kind in ("value", "raw"):
                return NO_VALUE
            self.error(f"invalid value; expected {kind}")
        if kind in ("any", "value", "raw"):
            return value
        ok = {
            "string": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
        }.get(kind, False)
        if not ok:
            got = "interface {}" if value is None else type_name(value)
            self.error(f"wrong type for value; expected {kind}; got {got}")
        return value

"""Locals and data sources evaluated together in dependency order (current Packer's DAG).

A local may use data sources and other locals; a data source's settings may use locals and other
data sources. A cycle is reported with every member named. The ``null`` data source runs here (its
``output`` is its ``input``); other types are plugins (:mod:`imagesmith.template.hcl2_datasources`).
With ``execute=False`` (``validate`` without ``-evaluate-datasources``, as current Packer) every
data source's settings are still evaluated and checked, but nothing runs: its outputs are unknown
values of their types.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import AttributeSchema, BodySchema, HCLBody
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.packer.model import Template
from imagesmith.hcl2.references import traversals
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.types import STRING, ObjectType
from imagesmith.hcl2.values import SENSITIVE, Value, object_val, unknown_val

Node = tuple[str, str]  # ("local", name) or ("data", "type.name")


@dataclass
class DataSource:
    type: str
    name: str
    body: HCLBody
    range: Range


def _exprs_of(body: HCLBody) -> list[ast.Expr]:
    attrs, _ = body.just_attributes()
    return [a.expr for a in attrs.values()]


def _deps(exprs: list[ast.Expr]) -> set[Node]:
    out: set[Node] = set()
    for expr in exprs:
        for trav in traversals(expr):
            root = trav[0].name  # type: ignore[union-attr]
            names = [s.name for s in trav[1:3] if isinstance(s, ast.TraverseAttr)]
            if root == "local" and names:
                out.add(("local", names[0]))
            elif root == "data" and len(names) == 2:
                out.add(("data", f"{names[0]}.{names[1]}"))
    return out


def evaluate_graph(tpl: Template, data: dict[str, DataSource], base: dict[str, Value], diags: Diagnostics,
                   execute: bool = True) -> None:  # fmt: skip
    """Fill ``tpl.local_values`` and ``tpl.data_values`` (data sources run only with ``execute``)."""
    nodes: dict[Node, set[Node]] = {}
    for name, loc in tpl.locals.items():
        nodes[("local", name)] = _deps([loc.expr])
    for key, ds in data.items():
        nodes[("data", key)] = _deps(_exprs_of(ds.body))
    for node, deps in nodes.items():
        nodes[node] = deps & nodes.keys()
    done: dict[Node, Value] = {}
    functions = standard_functions()
    while len(done) < len(nodes):
        ready = [n for n, deps in nodes.items() if n not in done and deps <= done.keys()]
        if not ready:
            stuck = sorted(n for n in nodes if n not in done)
            kind, first = stuck[0]
            where = tpl.locals[first].range if kind == "local" else data[first].range
            diags.add("Cyclic dependency between locals", "The values " + ", ".join(
                f'"{k}.{n}"' for k, n in stuck) + " depend on each other, so none of them can be evaluated.", where)
            break
        for node in ready:
            ctx = EvalContext({**base, **_scope(done, nodes[node])}, functions)
            done[node] = _evaluate_node(node, tpl, data, ctx, diags, execute)
    tpl.local_values = {n: v for (k, n), v in done.items() if k == "local"}
    tpl.data_values = {n: v for (k, n), v in done.items() if k == "data"}


def _scope(done: dict[Node, Value], deps: set[Node]) -> dict[str, Value]:
    local = {n: done[(k, n)] for k, n in deps if k == "local"}
    by_type: dict[str, dict[str, Value]] = {}
    for k, n in deps:
        if k == "data":
            typ, _, name = n.partition(".")
            by_type.setdefault(typ, {})[name] = done[(k, n)]
    return {"local": object_val(local), "data": object_val({t: object_val(v) for t, v in by_type.items()})}


def _evaluate_node(node: Node, tpl: Template, data: dict[str, DataSource], ctx: EvalContext,
                   diags: Diagnostics, execute: bool) -> Value:
    kind, name = node
    if kind == "local":
        loc = tpl.locals[name]
        val = evaluate(loc.expr, ctx, diags)
        return val.with_marks({SENSITIVE}) if loc.sensitive else val
    ds = data[name]
    if ds.type != "null":
        from imagesmith.template.hcl2_datasources import run_datasource  # the plugin layer, above this one

        return run_datasource(ds.type, ds.name, ds.body, ds.range, ctx, diags, execute)
    content, cdiags = ds.body.content(BodySchema([AttributeSchema("input", True)]))
    diags.extend(cdiags)
    if "input" not in content.attributes:
        return object_val({}) if execute else unknown_val(ObjectType({"output": STRING}))
    expr = content.attributes["input"].expr
    val = evaluate(expr, ctx, diags)
    try:
        val = convert(val, STRING)
    except ConversionError as exc:
        diags.add("Incorrect attribute value type", f'Inappropriate value for attribute "input": {exc}.', expr.range)
    if not execute:
        return unknown_val(ObjectType({"input": STRING, "output": STRING}))
    return object_val({"input": val, "output": val})

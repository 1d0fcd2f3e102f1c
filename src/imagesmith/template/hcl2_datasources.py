"""Running a ``data`` block whose type is a plugin of the ``imagesmith.datasources`` group.

The block's body is evaluated into the mapping a plugin config decodes (as builder bodies are),
decoded into the data source's config class with every problem reported at its location, then
executed; its outputs become an object value, the sensitive ones marked and registered with the
secret filter so they never reach the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagesmith.core import registry
from imagesmith.datasources import DataSource, DataSourceError
from imagesmith.errors import ImagesmithError, Location, Problem
from imagesmith.hcl2 import values as hv
from imagesmith.hcl2.body import HCLBody
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.typeexpr import parse_type
from imagesmith.hcl2.types import DYNAMIC, STRING, ObjectType, Type
from imagesmith.secrets import secrets
from imagesmith.template.hcl2_mapping import body_mapping

#: the value of a data source that failed: unknown, so what uses it adds no errors of its own
FAILED = hv.unknown_val(DYNAMIC)


def run_datasource(kind: str, name: str, body: HCLBody, where: Range, ctx: EvalContext,
                   diags: Diagnostics, execute: bool = True) -> hv.Value:  # fmt: skip
    """The outputs of ``data "<kind>" "<name>"``, or :data:`FAILED` after adding diagnostics.

    Without ``execute`` the block is decoded and checked only; its outputs are unknowns of their types.
    """
    try:
        plugin = registry.lookup_datasource(kind)
    except ImagesmithError as exc:
        diags.add("Failed to load data source", str(exc), where)
        return FAILED
    if plugin is None:
        known = ", ".join(["null", *registry.known_datasources()])
        diags.add("Unknown data source type", f'The data source type "{kind}" is not known ({known}).', where)
        return FAILED
    mark = len(diags)
    ranges: dict[Location, Range] = {}
    raw = body_mapping(body, ctx, diags, ranges=ranges)
    if diags.has_errors_since(mark):
        return FAILED
    problems: list[Problem] = []
    from imagesmith.template.decode import decode_config

    config: Any = decode_config(
        plugin.config_class, raw, render=None, path=f'data "{kind}" "{name}"', problems=problems
    )
    for problem in problems:  # located at the attribute when there is one, else at the block
        at = ranges.get(problem.location) if problem.location else None
        diags.add("Invalid data source configuration", problem.message, at or where)
    if problems:
        return FAILED
    if not execute:
        return hv.unknown_val(output_type(plugin))
    source = plugin(config)
    try:
        outputs = source.execute()
    except DataSourceError as exc:
        diags.add(f'Failed to execute data source "{kind}.{name}"', str(exc), where)
        return FAILED
    return outputs_value(source, outputs)


def output_type(plugin: type[DataSource]) -> ObjectType:
    """The object type of a data source's outputs, from its ``output_types``."""
    attrs: dict[str, Type] = {}
    for key, text in plugin.output_types.items():
        typ, tdiags = parse_type(text, f"{plugin.__name__}.output_types")
        if tdiags.has_errors():  # a bug in the plugin, not in the template
            raise ValueError(f"{plugin.__name__}.output_types[{key!r}]: bad type expression {text!r}")
        attrs[key] = typ
    return ObjectType(attrs)


def outputs_value(source: DataSource, outputs: Mapping[str, Any]) -> hv.Value:
    """The object ``data.<type>.<name>``: string maps as maps, sensitive outputs marked and masked."""
    attrs: dict[str, hv.Value] = {}
    for key, out in outputs.items():
        if isinstance(out, Mapping):
            val = hv.map_val({k: hv.string_val(str(v)) for k, v in out.items()}) if out else hv.empty_map(STRING)
        else:
            val = hv.from_python(out)
        if key in source.marked:
            if isinstance(out, str):
                secrets.add(out)
            val = val.with_marks({hv.SENSITIVE})
        attrs[key] = val
    return hv.object_val(attrs)

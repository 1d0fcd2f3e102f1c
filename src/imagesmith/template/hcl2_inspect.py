"""``inspect`` of HCL2 configuration: Packer's "HCL2 mode" report of variables, locals and builds.

As in Packer, a variable without a value is shown as ``<unknown>`` rather than reported, and so is
what a failed data source would have given (current Packer runs data sources for ``inspect`` and
ignores their failures); every other problem (syntax, schema, bad values) is an error. Sensitive
values read ``<sensitive>``.
"""

from __future__ import annotations

from collections.abc import Mapping

from imagesmith.errors import TemplateError
from imagesmith.hcl2.display import printable
from imagesmith.hcl2.packer import decode as hdecode
from imagesmith.hcl2.packer import model as hm
from imagesmith.hcl2.values import Value
from imagesmith.template.engine.gofmt import quote_string
from imagesmith.template.hcl2_bridge import check_exists, problem_of, register_secrets

__all__ = ["inspect_hcl2"]

#: problems inspect shows as ``<unknown>`` values instead of failing on
_TOLERATED = ("Unset variable", "Failed to execute data source")


def inspect_hcl2(path: str, env: Mapping[str, str] | None = None) -> str:
    """The inspect report of the configuration at ``path``; raise TemplateError on invalid input."""
    check_exists(path)
    tpl, diags = hdecode.load(path, [], env)
    register_secrets(tpl)
    errors = [d for d in diags.errors() if not d.summary.startswith(_TOLERATED)]
    if errors:
        raise TemplateError([problem_of(d) for d in errors])
    lines = ["Packer Inspect: HCL2 mode", "", "> input-variables:", ""]
    lines += [f"var.{n}: {_shown(v.value, v.sensitive)}" for n, v in sorted(tpl.variables.items())]
    lines += ["", "> local-variables:", ""]
    lines += [
        f"local.{n}: {_shown(tpl.local_values.get(n), local.sensitive)}" for n, local in sorted(tpl.locals.items())
    ]
    lines += ["", "> builds:", ""]
    for i, build in enumerate(tpl.builds):
        lines += _build_lines(i, build)
    return "\n".join(lines)


def _shown(val: Value | None, sensitive: bool) -> str:
    """Packer's ``%q`` of ``PrintableCtyValue``: lists and maps one element a line, as ``console``."""
    if val is None or not val.is_wholly_known():
        return quote_string("<unknown>")
    if sensitive:
        return quote_string("<sensitive>")
    return quote_string(printable(val))


def _build_lines(index: int, build: hm.Build) -> list[str]:
    lines = [f"  > {build.name or f'<unnamed build {index}>'}:", ""]
    if build.description:
        lines += [f"  > Description: {build.description}", ""]
    lines += ["    sources:", ""]
    for use in build.sources:
        lines += [f"      {use.type}.{use.local_name or use.name}", ""]
    lines += ["    provisioners:", ""]
    for prov in build.provisioners:
        lines += [f"      {_named(prov.type, prov.name)}", ""]
    if not build.provisioners:
        lines += ["      <no provisioner>", ""]
    lines += ["    post-processors:", ""]
    if not build.post_processors:
        lines += ["      <no post-processor>", ""]
    for i, chain in enumerate(build.post_processors):
        lines += [f"      {i}:"] + [f"        {_named(pp.type, pp.name)}" for pp in chain] + [""]
    return lines


def _named(type_name: str, name: str) -> str:
    return f"{type_name}.{name}" if name else type_name

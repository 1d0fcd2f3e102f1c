"""HCL2 configuration (``*.pkr.hcl``, ``*.pkr.json`` or a directory of them) as a :class:`Template`.

The HCL2 decoder (:mod:`imagesmith.hcl2.packer`) checks the blocks and evaluates variables,
locals and data sources; this module then evaluates every plugin body into the plain mapping a
JSON template would hold, so builds are prepared by the same typed plugin configs as JSON.

* Each ``build`` × source is a builder named ``type.name`` (``build_name.type.name`` when the
  build block has a ``name``), as Packer 1.6.6 names them.
* A provisioner or post-processor of a build applies to that build's sources only (it gets an
  ``only`` list), then to its own ``only``/``except``.
* ``build.X`` is not known before the build runs: it evaluates to ``{{ build `X` }}``, which the
  run-time render (:mod:`imagesmith.core.render`) fills in, as Packer writes ``{{ .X }}``.
* Values of ``sensitive`` variables are registered with the run's secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from imagesmith.errors import Location, Problem, TemplateError
from imagesmith.hcl2.body import HCLBody
from imagesmith.hcl2.diagnostics import Diagnostic, Diagnostics
from imagesmith.hcl2.evaluator import EvalContext
from imagesmith.hcl2.packer import decode as hdecode
from imagesmith.hcl2.packer import model as hm
from imagesmith.hcl2.values import Value, object_val, string_val, to_python
from imagesmith.secrets import secrets
from imagesmith.template.hcl2_mapping import BUILD_KEYS, body_mapping, location_of, plain_value, sentinel
from imagesmith.template.mapstructure import DecodeError, weak_duration
from imagesmith.template.model import (
    BuilderBlock,
    HCL2Template,
    PostProcessorBlock,
    ProvisionerBlock,
    is_hcl2,
)
from imagesmith.template.positions import JsonObject

__all__ = ["HCL2Template", "is_hcl2", "load_hcl2"]



def check_exists(path: str) -> None:
    """Packer's errors for a path that is missing or a directory without configuration files."""
    if not Path(path).exists():
        raise TemplateError(f"{path}: no such file or directory")
    if Path(path).is_dir() and not hdecode.config_files(Path(path))[0]:
        raise TemplateError(
            f"Could not find any config file in {path}",
            hint="A config file must be suffixed with `.pkr.hcl` or `.pkr.json`. A folder can be referenced.",
        )


def load_hcl2(
    path: str,
    vars: Mapping[str, str] | None = None,
    var_files: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    run_datasources: bool = True,
) -> HCL2Template:
    """Decode the HCL2 configuration at ``path``; raise TemplateError with every located problem.

    ``var_files`` apply in order, then ``vars``: a -var beats every -var-file, as in Packer 1.6.6.
    Without ``run_datasources`` data sources are checked, not executed (their outputs are unknown).
    """
    check_exists(path)
    var_args = [("-var-file", f) for f in var_files] + [("-var", f"{k}={v}") for k, v in (vars or {}).items()]
    tpl, diags = hdecode.load(path, var_args, env, run_datasources)
    register_secrets(tpl)
    if diags.has_errors():
        raise TemplateError([problem_of(d) for d in diags.errors()])
    # template_dir is the path's directory, as for JSON: a directory gets a name inside it
    full = Path(path).resolve()
    out = HCL2Template(path=str(full) if full.is_file() else f"{full}{os.sep}.", display=path)
    out.sensitive_variables = sorted(name for name, var in tpl.variables.items() if var.sensitive)
    diags = Diagnostics()
    _check_source_types(tpl, diags)
    _BuildMaker(tpl, out, diags).make_all()
    if diags.has_errors():
        raise TemplateError([problem_of(d) for d in diags.errors()])
    return out


def problem_of(diag: Diagnostic) -> Problem:
    """A located :class:`Problem` whose message carries the diagnostic's source excerpt."""
    where = None
    if diag.subject is not None:
        pos = diag.subject.start_pos
        where = Location(diag.subject.filename, pos.line, pos.column)
    message = diag.summary + (f"; {diag.detail}" if diag.detail else "")
    excerpt: list[str] = []
    if diag.subject is not None:  # format() puts the excerpt between "  on file:line:col:" and a blank line
        lines = diag.format().splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("  on ")), len(lines))
        for line in lines[start + 1 :]:
            if not line.strip():
                break
            excerpt.append(line)
    return Problem(message + ("\n" + "\n".join(excerpt) if excerpt else ""), where)


def _check_source_types(tpl: hm.Template, diags: Diagnostics) -> None:
    """Every source names a builder imagesmith has, used or not (as Packer checks them)."""
    from imagesmith.core import registry

    for source in tpl.sources.values():
        try:
            found = registry.lookup("builder", source.type) is not None
        except registry.PluginLoadError as exc:
            diags.add(f"Failed to load the {source.type} builder", str(exc), source.range)
            continue
        if not found:
            known = ", ".join(registry.known("builder"))
            diags.add(
                f"Unknown source type {source.type}",
                f'The source "{source.type}" is unknown to imagesmith (it has: {known}).',
                source.range,
            )


def register_secrets(tpl: hm.Template) -> None:
    """Mask the values of ``sensitive`` variables in this run's output."""
    for var in tpl.variables.values():
        if var.sensitive and var.value is not None and var.value.is_wholly_known():
            plain = to_python(var.value.unmark()[0])
            for text in _strings_in(plain):
                secrets.add(text)


def _strings_in(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings_in(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings_in(v)]
    return [str(obj)] if obj not in (None, "") else []


class _BuildMaker:
    """Turns the decoded builds into builder, provisioner and post-processor blocks of ``out``."""

    def __init__(self, tpl: hm.Template, out: HCL2Template, diags: Diagnostics) -> None:
        self.tpl, self.out, self.diags = tpl, out, diags
        # what every body's context shares (variables, locals, data, path, packer, functions), made once:
        # only ``source`` and ``build`` differ between a template's sources
        shared = hdecode.eval_context(tpl)
        self._shared, self._functions = dict(shared.variables or {}), shared.functions
        self._builds: dict[str, Value] = {}

    def make_all(self) -> None:
        for build in self.tpl.builds:
            names: list[str] = []
            for use in build.sources:
                block = self._builder(build, use)
                if block is not None:
                    names.append(block.name)
                    self.out.builders.append(block)
            for prov in build.provisioners:
                self._provisioners(build, prov, names, self.out.provisioners)
            if build.error_cleanup_provisioner is not None:  # the JSON model has one, for every build
                cleanups: list[ProvisionerBlock] = []
                self._provisioners(build, build.error_cleanup_provisioner, names, cleanups)
                self.out.cleanup_provisioner = cleanups[0] if cleanups else None
            for chain in build.post_processors:
                self._chain(build, chain, names)

    def _context(self, build: hm.Build, source: hm.Source) -> EvalContext:
        if build.name not in self._builds:
            accessors = {k: string_val(sentinel(k)) for k in BUILD_KEYS}
            accessors["name"] = string_val(build.name)
            self._builds[build.name] = object_val(accessors)
        variables = dict(self._shared)
        variables["build"] = self._builds[build.name]
        variables["source"] = object_val({"type": string_val(source.type), "name": string_val(source.name)})
        return EvalContext(variables, self._functions)

    def _builder(self, build: hm.Build, use: hm.SourceUse) -> BuilderBlock | None:
        source = self.tpl.sources[(use.type, use.name)]
        name = use.local_name or use.name
        ctx = self._context(build, hm.Source(use.type, name, source.body, source.range))
        config = self._mapping(source.body, ctx)
        if use.overrides is not None:
            overrides = self._mapping(use.overrides, ctx)
            overrides.pop("name", None)
            _merge_into(config, overrides)
        full = f"{use.type}.{name}"
        if build.name:
            full = f"{build.name}.{full}"
        return BuilderBlock(len(self.out.builders), use.type, full, config, location_of(use.range))

    def _source_of(self, build: hm.Build, name: str) -> hm.Source:
        for use in build.sources:
            full = f"{use.type}.{use.local_name or use.name}"
            if name in (full, f"{build.name}.{full}"):
                src = self.tpl.sources[(use.type, use.name)]
                return hm.Source(use.type, use.local_name or use.name, src.body, src.range)
        raise KeyError(name)

    def _provisioners(
        self, build: hm.Build, prov: hm.Provisioner, names: list[str], into: list[ProvisionerBlock]
    ) -> None:
        """One block per source: ``source.*`` and ``build.name`` differ between a build's sources."""
        for name in names:
            if _skips(prov.only, prov.except_, name):
                continue
            ctx = self._context(build, self._source_of(build, name))
            block = ProvisionerBlock(
                len(into),
                prov.type,
                self._mapping(prov.body, ctx, _PROV_META),
                only=[name],
                location=location_of(prov.range),
                path=f'provisioner "{prov.type}"',
                max_retries=str(prov.max_retries or ""),
            )
            overrides = _override(prov.override)
            for key, value in overrides.items():
                if _matches(key, name):
                    block.override[name] = value
            for attr in ("pause_before", "timeout"):
                text = getattr(prov, attr)
                if text:
                    try:
                        setattr(block, attr, weak_duration(text))
                    except DecodeError as exc:
                        self.diags.add(f"Invalid {attr}", str(exc), prov.range)
            into.append(block)

    def _chain(self, build: hm.Build, chain: list[hm.PostProcessor], names: list[str]) -> None:
        for name in names:
            ctx = self._context(build, self._source_of(build, name))
            index = len(self.out.post_processors)
            current = [
                PostProcessorBlock(
                    index,
                    j,
                    pp.type,
                    pp.name,
                    self._mapping(pp.body, ctx, _PP_META),
                    only=[name],
                    keep_input_artifact=pp.keep_input_artifact,
                    location=location_of(pp.range),
                    path=f'post-processor "{pp.type}"',
                )
                for j, pp in enumerate(chain)
                if not _skips(pp.only, pp.except_, name)
            ]
            if current:
                self.out.post_processors.append(current)

    def _mapping(self, body: HCLBody, ctx: EvalContext, skip: tuple[str, ...] = ()) -> JsonObject:
        """A plugin body evaluated into the mapping its typed config decodes (blocks → lists of mappings)."""
        return body_mapping(body, ctx, self.diags, skip)


_PROV_META = ("name", "only", "except", "pause_before", "max_retries", "timeout", "override")
_PP_META = ("name", "only", "except", "keep_input_artifact")


def _merge_into(base: JsonObject, overrides: JsonObject) -> None:
    for key, value in overrides.items():
        base[key] = value
        base.locs[key] = overrides.locs.get(key, base.loc) or Location("")


def _override(val: Value | None) -> dict[str, Any]:
    if val is None or val.is_null or not val.is_wholly_known():
        return {}
    plain = plain_value(val)
    return plain if isinstance(plain, dict) else {}


def _matches(ref: str, name: str) -> bool:
    """Whether ``ref`` (``type.name``, ``source.type.name`` or a full build name) names build ``name``."""
    ref = ref.removeprefix("source.")
    return name == ref or name.endswith("." + ref)


def _skips(only: list[str], except_: list[str], name: str) -> bool:
    if only:
        return not any(_matches(r, name) for r in only)
    return any(_matches(r, name) for r in except_)


def check_hcl2_syntax(path: str) -> None:
    """``validate -syntax-only``: parse every configuration file, evaluate nothing."""
    check_exists(path)
    diags = Diagnostics()
    conf, auto = hdecode.config_files(Path(path))
    for file in conf + auto:
        hdecode.parse_file(file, diags)
    if diags.has_errors():
        raise TemplateError([problem_of(d) for d in diags.errors()])

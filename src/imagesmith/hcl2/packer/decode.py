"""Loading a directory (or a file) of Packer HCL2 configuration into a :class:`Template`.

Every problem is collected, with its location, before anything is returned: parse errors, schema
errors, duplicate declarations, bad variable values and failed validations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import AttributeSchema, BlockSchema, BodySchema, ContentBlock, HCLBody, NativeBody
from imagesmith.hcl2.convert import ConversionError, convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.dynblock import DynamicBody
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.json_body import parse_json_config
from imagesmith.hcl2.packer import variables as pvars
from imagesmith.hcl2.packer.graph import DataSource, evaluate_graph
from imagesmith.hcl2.packer.model import Build, PostProcessor, Provisioner, Source, SourceUse, Template
from imagesmith.hcl2.packer.plugins import decode_required_plugins
from imagesmith.hcl2.packer.version import check_constraint
from imagesmith.hcl2.parser import parse_config
from imagesmith.hcl2.references import traversals
from imagesmith.hcl2.types import BOOL, NUMBER, STRING, ListType
from imagesmith.hcl2.values import Value, object_val, string_val, unknown_val

PACKER_VERSION = "1.6.6"
CONFIG_SCHEMA = BodySchema(blocks=[
    BlockSchema("packer"), BlockSchema("source", ("type", "name")), BlockSchema("variables"),
    BlockSchema("variable", ("name",)), BlockSchema("locals"), BlockSchema("local", ("name",)),
    BlockSchema("data", ("type", "name")), BlockSchema("build"), BlockSchema("hcp_packer_registry"),
])
PACKER_SCHEMA = BodySchema([AttributeSchema("required_version")], [BlockSchema("required_plugins")])
BUILD_SCHEMA = BodySchema(
    [AttributeSchema("name"), AttributeSchema("description"), AttributeSchema("sources")],
    [BlockSchema("source", ("reference",)), BlockSchema("provisioner", ("type",)),
     BlockSchema("error-cleanup-provisioner", ("type",)), BlockSchema("post-processor", ("type",)),
     BlockSchema("post-processors"), BlockSchema("hcp_packer_registry")],
)
_PROV_ATTRS = ("name", "only", "except", "pause_before", "max_retries", "timeout", "override")
_PP_ATTRS = ("name", "only", "except", "keep_input_artifact")


def config_files(path: Path) -> tuple[list[Path], list[Path]]:
    """(configuration files, auto var files) of a directory, or of a single file."""
    if path.is_file():
        return [path], []
    names = sorted(path.iterdir())
    conf = [p for p in names if p.name.endswith((".pkr.hcl", ".pkr.json"))]
    auto = [p for p in names if p.name.endswith((".auto.pkrvars.hcl", ".auto.pkrvars.json"))]
    return conf, auto


def parse_file(path: Path, diags: Diagnostics) -> HCLBody | None:
    data = path.read_bytes()
    if path.name.endswith(".json"):
        body, pdiags = parse_json_config(data, str(path))
        diags.extend(pdiags)
        return body
    native, pdiags = parse_config(data, str(path))
    diags.extend(pdiags)
    return NativeBody(native)


def load(path: str | Path, var_args: list[tuple[str, str]] | None = None,
         env: Mapping[str, str] | None = None, run_datasources: bool = True) -> tuple[Template, Diagnostics]:
    """Decode the configuration at ``path``. ``var_args`` holds ``("-var", "k=v")`` and
    ``("-var-file", path)`` in command-line order. Without ``run_datasources`` data sources are
    checked but not executed: their outputs are unknowns (``validate``, as current Packer)."""
    root = Path(path)
    diags = Diagnostics()
    tpl = Template(str(root if root.is_dir() else root.parent))
    conf, auto = config_files(root)
    tpl.files = [str(p) for p in conf]
    bodies = [b for p in conf if (b := parse_file(p, diags)) is not None]
    if diags.has_errors():
        return tpl, diags
    for body in bodies:  # the version constraint first: an unsupported version is all Packer reports
        head, hdiags = body.content(BodySchema(blocks=[BlockSchema("packer")]), partial=True)
        diags.extend(hdiags)
        for block in head.blocks:
            _decode_packer(block, tpl, diags)
    if diags.has_errors():
        return tpl, diags
    blocks: list[ContentBlock] = []
    for body in bodies:
        content, cdiags = body.content(CONFIG_SCHEMA)
        diags.extend(cdiags)
        blocks.extend(content.blocks)
    for block in blocks:  # builds come last: they use sources declared anywhere, variables and locals
        if block.type not in ("build", "packer"):
            _decode_top_block(block, tpl, diags)
    assignments = _var_file_assignments(auto, diags)
    for kind, arg in var_args or []:
        if kind == "-var-file":
            assignments.extend(_var_file_assignments([Path(arg)], diags))
        else:
            name, _, raw = arg.partition("=")
            assignments.append(("cmd", name, raw))
    pvars.assign_values(tpl, env if env is not None else os.environ, assignments, diags)
    pvars.check_variables(tpl, _used_variables(blocks), diags)
    data = {f"{b.labels[0]}.{b.labels[1]}": DataSource(b.labels[0], b.labels[1], b.body, b.def_range)
            for b in blocks if b.type == "data"}
    evaluate_graph(tpl, data, base_variables(tpl), diags, run_datasources)
    for block in blocks:
        if block.type == "build":
            _decode_top_block(block, tpl, diags)
    return tpl, diags


def load_plugin_requirements(path: str | Path) -> tuple[Template, Diagnostics]:
    """Only the ``packer`` blocks of the configuration at ``path`` (what ``init`` reads): nothing
    else is evaluated, so no variable needs a value."""
    root = Path(path)
    diags = Diagnostics()
    tpl = Template(str(root if root.is_dir() else root.parent))
    for conf in config_files(root)[0]:
        body = parse_file(conf, diags)
        if body is None:
            continue
        head, hdiags = body.content(BodySchema(blocks=[BlockSchema("packer")]), partial=True)
        diags.extend(hdiags)
        for block in head.blocks:
            _decode_packer(block, tpl, diags)
    return tpl, diags


def _decode_top_block(block: ContentBlock, tpl: Template, diags: Diagnostics) -> None:
    kind = block.type
    if kind == "packer":
        _decode_packer(block, tpl, diags)
    elif kind == "variable":
        pvars.decode_variable(block, tpl, diags)
    elif kind == "variables":
        pvars.decode_legacy_variables(block.body, tpl, diags)
    elif kind == "locals":
        pvars.decode_locals(block.body, tpl, diags)
    elif kind == "local":
        pvars.decode_local_block(block, tpl, diags)
    elif kind == "source":
        key = (block.labels[0], block.labels[1])
        if key in tpl.sources:
            diags.add("Duplicate source block", f"This {block.labels[0]}.{block.labels[1]} source block was "
                      f"already declared at {tpl.sources[key].range}.", block.def_range)
            return
        tpl.sources[key] = Source(key[0], key[1], block.body, block.def_range)
    elif kind == "build":
        tpl.builds.append(_decode_build(block, tpl, diags))


def _decode_packer(block: ContentBlock, tpl: Template, diags: Diagnostics) -> None:
    content, cdiags = block.body.content(PACKER_SCHEMA)
    diags.extend(cdiags)
    if "required_version" in content.attributes:
        expr = content.attributes["required_version"].expr
        val = _static(expr, STRING, diags)
        tpl.required_version = val.as_str() if val is not None and val.is_known and not val.is_null else ""
        verdict = check_constraint(tpl.required_version, PACKER_VERSION) if tpl.required_version else True
        if verdict is None:
            diags.add("Invalid version constraint", "This string does not use correct version constraint syntax.",
                      expr.range)
        elif not verdict:
            diags.add("Unsupported Packer Core version", f"This configuration does not support Packer version "
                      f"{PACKER_VERSION}. To proceed, either choose another supported Packer version or update this "
                      "version constraint. Version constraints are normally set for good reason, so updating the "
                      "constraint may lead to other errors or unexpected behavior.", expr.range)
    for req in content.blocks:
        tpl.required_plugins.update(decode_required_plugins(req, diags))


def _var_file_assignments(paths: list[Path], diags: Diagnostics) -> list[tuple[str, str, ast.Expr | str]]:
    out: list[tuple[str, str, ast.Expr | str]] = []
    for path in paths:
        body = parse_file(path, diags)
        if body is None:
            continue
        attrs, adiags = body.just_attributes()
        diags.extend(adiags)
        out.extend(("varfile", name, attr.expr) for name, attr in attrs.items())
    return out


def _used_variables(blocks: list[ContentBlock]) -> set[str]:
    used: set[str] = set()
    for block in blocks:
        if block.type in ("variable", "variables"):
            continue
        for expr in _all_exprs(block.body):
            for trav in traversals(expr):
                if trav[0].name == "var" and len(trav) > 1 and isinstance(trav[1], ast.TraverseAttr):  # type: ignore[union-attr]
                    used.add(trav[1].name)
    return used


def _all_exprs(body: HCLBody) -> list[ast.Expr]:
    if isinstance(body, NativeBody):
        out = [a.expr for a in body.body.attributes.values()]
        for b in body.body.blocks:
            out.extend(_all_exprs(NativeBody(b.body)))
        return out
    attrs, _ = body.just_attributes()
    return [a.expr for a in attrs.values()]


def base_variables(tpl: Template) -> dict[str, Value]:
    """``var``, ``path`` and ``packer`` as expressions see them."""
    # an unset variable (already reported) is unknown, so what uses it is not reported again
    variables = {n: v.value if v.value is not None else unknown_val(v.type) for n, v in tpl.variables.items()}
    return {
        "var": object_val(variables),
        "path": object_val({"root": string_val(tpl.root.replace(os.sep, "/")),
                            "cwd": string_val(os.getcwd().replace(os.sep, "/"))}),
        "packer": object_val({"version": string_val(PACKER_VERSION)}),
    }


def eval_context(tpl: Template, source: Source | None = None) -> EvalContext:
    """The context for plugin bodies: variables, locals, ``source.*``, and ``build.*`` as unknowns."""
    from imagesmith.hcl2.functions import standard_functions
    from imagesmith.hcl2.types import STRING as S
    from imagesmith.hcl2.values import unknown_val

    names = base_variables(tpl)
    names["local"] = object_val(tpl.local_values)
    by_type: dict[str, dict[str, Value]] = {}
    for key, val in tpl.data_values.items():
        typ, _, name = key.partition(".")
        by_type.setdefault(typ, {})[name] = val
    names["data"] = object_val({t: object_val(v) for t, v in by_type.items()})
    build_keys = ("name", "ID", "Host", "Port", "User", "Password", "ConnType", "PackerRunUUID", "PackerHTTPIP",
                  "PackerHTTPPort", "PackerHTTPAddr", "SSHPublicKey", "SSHPrivateKey", "WinRMPassword")
    names["build"] = object_val({k: unknown_val(S) for k in build_keys})
    if source is not None:
        names["source"] = object_val({"type": string_val(source.type), "name": string_val(source.name)})
    return EvalContext(names, standard_functions())


def _static(expr: ast.Expr, want: object, diags: Diagnostics, tpl: Template | None = None) -> Value | None:
    ctx = eval_context(tpl) if tpl else EvalContext()
    ctx = EvalContext(ctx.variables, {}) if tpl else ctx
    val = evaluate(expr, ctx, diags)
    try:
        return convert(val, want)  # type: ignore[arg-type]
    except ConversionError as exc:
        diags.add("Incorrect attribute value type", f"Inappropriate value for attribute: {exc}.", expr.range)
        return None


def plugin_body(tpl: Template, body: HCLBody, source: Source | None = None) -> HCLBody:
    """A plugin's settings ready to decode: dynamic blocks expanded in the build's context."""
    return DynamicBody(body, eval_context(tpl, source))


def _decode_build(block: ContentBlock, tpl: Template, diags: Diagnostics) -> Build:
    content, cdiags = DynamicBody(block.body, eval_context(tpl)).content(BUILD_SCHEMA)
    diags.extend(cdiags)
    build = Build(block.def_range)
    attrs = content.attributes
    for key in ("name", "description"):
        v = _static(attrs[key].expr, STRING, diags, tpl) if key in attrs else None
        if v is not None and v.is_known and not v.is_null:  # unknown: a data source validate does not run
            setattr(build, key, v.as_str())
    mark = len(diags)
    if "sources" in attrs and (refs := _static(attrs["sources"].expr, ListType(STRING), diags)) is not None:
        if diags.has_errors_since(mark):  # gohcl's decode then fails on the unknown result too
            diags.add("Unsuitable value type", "Unsuitable value: value must be known", attrs["sources"].expr.range)
        for ref in refs.elements() if refs.is_known and not refs.is_null else []:
            if not ref.is_known or ref.is_null:
                continue
            use = _source_use(ref.as_str(), attrs["sources"].expr.range, tpl, diags)
            if use is not None:
                build.sources.append(use)
    for sub in content.blocks:
        if sub.type == "source":
            use = _source_use(sub.labels[0], sub.def_range, tpl, diags)
            if use is not None:
                name_attr, _ = sub.body.content(BodySchema([AttributeSchema("name")]), partial=True)
                if "name" in name_attr.attributes and (n := _static(name_attr.attributes["name"].expr, STRING,
                                                                       diags, tpl)) is not None and n.is_known:
                    use.local_name = n.as_str()
                use.overrides = sub.body
                build.sources.append(use)
        elif sub.type in ("provisioner", "error-cleanup-provisioner"):
            prov = _decode_provisioner(sub, tpl, diags)
            if sub.type == "provisioner":
                build.provisioners.append(prov)
            elif build.error_cleanup_provisioner is not None:
                diags.add("Only one error-cleanup-provisioner is allowed", "", sub.def_range)
            else:
                build.error_cleanup_provisioner = prov
        elif sub.type == "post-processor":
            build.post_processors.append([_decode_post_processor(sub, tpl, diags)])
        elif sub.type == "post-processors":
            chain_content, chain_diags = sub.body.content(BodySchema(blocks=[BlockSchema("post-processor",
                                                                                          ("type",))]))
            diags.extend(chain_diags)
            build.post_processors.append([_decode_post_processor(pp, tpl, diags) for pp in chain_content.blocks])
    return build


def _source_use(ref: str, rng: object, tpl: Template, diags: Diagnostics) -> SourceUse | None:
    parts = ref.split(".")
    if len(parts) > 2:  # Packer drops the first part whatever it says ("source", "sources", ...)
        parts = parts[1:3]
    if len(parts) != 2 or not all(parts):
        diags.add("Invalid source reference", f'A source reference must be like "source.type.name"; got "{ref}".',
                  rng)  # type: ignore[arg-type]
        return None
    if (parts[0], parts[1]) not in tpl.sources:
        diags.add("Unknown source " + ref, f"Known: {sorted('.'.join(k) for k in tpl.sources)}",
                  rng)  # type: ignore[arg-type]
        return None
    return SourceUse(parts[0], parts[1], rng)  # type: ignore[arg-type]


def _common(block: ContentBlock, names: tuple[str, ...], tpl: Template, diags: Diagnostics) -> dict[str, Value]:
    content, cdiags = block.body.content(BodySchema([AttributeSchema(n) for n in names]), partial=True)
    diags.extend(cdiags)
    types = {"only": ListType(STRING), "except": ListType(STRING), "max_retries": NUMBER,
             "keep_input_artifact": BOOL}
    out: dict[str, Value] = {}
    for name, attr in content.attributes.items():
        want = types.get(name, STRING)
        if name == "override":
            out[name] = evaluate(attr.expr, EvalContext(base_variables(tpl), {}), diags)
        elif (v := _static(attr.expr, want, diags, tpl)) is not None and not v.is_null and v.is_wholly_known():
            out[name] = v
    return out


def _decode_provisioner(block: ContentBlock, tpl: Template, diags: Diagnostics) -> Provisioner:
    vals = _common(block, _PROV_ATTRS, tpl, diags)
    prov = Provisioner(block.labels[0], block.def_range, block.body)
    prov.name = vals["name"].as_str() if "name" in vals else ""
    prov.only = [e.as_str() for e in vals["only"].elements()] if "only" in vals else []
    prov.except_ = [e.as_str() for e in vals["except"].elements()] if "except" in vals else []
    prov.pause_before = vals["pause_before"].as_str() if "pause_before" in vals else ""
    prov.max_retries = int(vals["max_retries"].as_number()) if "max_retries" in vals else 0
    prov.timeout = vals["timeout"].as_str() if "timeout" in vals else ""
    prov.override = vals.get("override")
    return prov


def _decode_post_processor(block: ContentBlock, tpl: Template, diags: Diagnostics) -> PostProcessor:
    vals = _common(block, _PP_ATTRS, tpl, diags)
    pp = PostProcessor(block.labels[0], block.def_range, block.body)
    pp.name = vals["name"].as_str() if "name" in vals else ""
    pp.only = [e.as_str() for e in vals["only"].elements()] if "only" in vals else []
    pp.except_ = [e.as_str() for e in vals["except"].elements()] if "except" in vals else []
    pp.keep_input_artifact = vals["keep_input_artifact"].as_bool() if "keep_input_artifact" in vals else None
    return pp

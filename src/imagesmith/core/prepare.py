"""Template + options → :class:`PreparedBuild` s: the whole check ``validate`` runs and ``build`` relies on.

This follows Packer 1.6.6's ``Core`` (``Validate``, ``init``, ``Build``, ``CoreBuild.Prepare``) but
runs no plugin processes and reports every problem of every build at once, each with its
location. Nothing here touches the machine: it only decodes and checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from imagesmith import PACKER_COMPAT_VERSION
from imagesmith.core import registry
from imagesmith.core.plugin import Builder, BuildInfo, PostProcessor, Provisioner
from imagesmith.core.prepared import PreparedBuild, PreparedPostProcessor, PreparedProvisioner
from imagesmith.errors import Problem, RenderError, TemplateError
from imagesmith.template.decode import decode_config
from imagesmith.template.model import BuilderBlock, HCL2Template, PostProcessorBlock, ProvisionerBlock, Template
from imagesmith.template.parse import check_template, in_file_order
from imagesmith.template.parse import load_template as _load_template
from imagesmith.template.variables import check_required, merge_given, render_variables

#: Keys every builder's generated data has (``packerbuilderdata.GenerateDataKeys``).
GENERATED_DATA_KEYS = (
    "ID",
    "Host",
    "Port",
    "User",
    "Password",
    "ConnType",
    "PackerRunUUID",
    "PackerHTTPPort",
    "PackerHTTPIP",
    "PackerHTTPAddr",
    "SSHPublicKey",
    "SSHPrivateKey",
)
PLACEHOLDER_MSG = "To set this dynamically in the Packer template, you must use the `build` function"

Render = Callable[[str], str]


_PLACEHOLDERS = {key: f"Build_{key}. {PLACEHOLDER_MSG}" for key in GENERATED_DATA_KEYS} | {
    "WinRMPassword": "{{.WinRMPassword}}"
}


def placeholder_data() -> dict[str, str]:
    """What provisioners and post-processors see as build data before the build runs (Packer's)."""
    return dict(_PLACEHOLDERS)


@dataclass(frozen=True)
class PrepareOptions:
    """What the command line passes to :func:`prepare_builds`."""

    vars: Mapping[str, str] = field(default_factory=dict)
    var_files: Sequence[str] = ()
    only: Sequence[str] = ()
    except_: Sequence[str] = ()
    force: bool = False
    debug: bool = False
    on_error: str = "cleanup"
    run_uuid: str = ""
    cache: str = "off"  # layer cache mode: off, read, readwrite (docs/layers.md)


def load_template(path: str) -> Template:
    """Read and parse the template at ``path`` (``-`` = stdin); raise TemplateError with every problem."""
    return _load_template(path)


def prepare_user_vars(template: Template, opts: PrepareOptions, problems: list[Problem]) -> dict[str, str]:
    """Check the template (Packer's ``Core.Validate``) and render its variables.

    Template-level problems (only/except/override names, min_packer_version) are appended to
    ``problems`` and checking goes on, so plugin blocks are checked too and every error is
    reported at once (Packer stops here). Missing required variables stop at once: nothing
    can be rendered without them.
    """
    given = merge_given(opts.vars, opts.var_files)
    problems += check_template(template)
    missing = check_required(template, given)
    if missing:
        raise TemplateError(in_file_order(problems + missing))
    return render_variables(template, given)


def prepare_builds(template: Template, opts: PrepareOptions) -> list[PreparedBuild]:
    """Decode and check every selected build; raise TemplateError with all problems of all builds."""
    problems: list[Problem] = []
    user_vars = prepare_user_vars(template, opts, problems)
    named = render_build_names(template, user_vars, problems)
    builds: list[PreparedBuild] = []
    if isinstance(template, HCL2Template):
        selected = select_hcl2_builds(list(named), opts.only, opts.except_, problems)
    else:
        selected = select_builds(list(named), opts.only, opts.except_)
    for name in selected:
        build = _Preparer(template, user_vars, opts, problems).build(name, named[name])
        if build is not None:
            builds.append(build)
    if problems:
        raise TemplateError(in_file_order(problems))  # a block shared by builds is reported once
    return builds


def render_build_names(template: Template, user_vars: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
    """Rendered build name → builder block (names may use ``{{user}}`` and functions)."""
    render = make_renderer(template, user_vars)
    named: dict[str, BuilderBlock] = {}
    for block in template.builders:
        try:
            name = render(block.name)
        except RenderError as exc:
            problems.append(Problem(f"Error interpolating builder '{block.name}': {exc}", block.location, block.path))
            continue
        if name in named:
            other = named[name]
            problems.append(
                Problem(f"builds '{other.name}' and '{block.name}' both have the name '{name}'", block.location)
            )
            continue
        named[name] = block
    return named


def select_builds(names: list[str], only: Sequence[str], except_: Sequence[str]) -> list[str]:
    """Packer's ``BuildNames``: exact names, sorted; ``-only`` first, then ``-except``."""
    return sorted(n for n in names if (not only or n in only) and n not in except_)


def select_hcl2_builds(
    names: list[str], only: Sequence[str], except_: Sequence[str], problems: list[Problem]
) -> list[str]:
    """Current Packer's HCL2 selection: ``-only``/``-except`` are globs (see :mod:`imagesmith.core.globs`)."""
    from imagesmith.core.globs import GlobError, compile_glob, matches_any

    compiled: dict[str, list[re.Pattern[str]]] = {"only": [], "except": []}
    for flag, patterns in (("only", only), ("except", except_)):
        for pattern in patterns:
            try:
                compiled[flag].append(compile_glob(pattern))
            except GlobError as exc:
                problems.append(Problem(f"Invalid -{flag} pattern {pattern}: {exc}"))  # Packer's words
    return sorted(
        n for n in names
        if (not only or matches_any(compiled["only"], n)) and not matches_any(compiled["except"], n)
    )  # fmt: skip


def make_renderer(template: Template, user_vars: Mapping[str, str], *, once: bool = False, **context: Any) -> Render:
    """A function rendering one string in a Packer interpolation context.

    ``once``: a single pass (Packer's ``RenderOnce``, what config decoding uses, so that
    ``{{build `ID`}}`` stays ``{{.ID}}``); otherwise render until stable (``Render``).
    """
    from imagesmith.template.context import RenderContext
    from imagesmith.template.engine import render, render_once

    ctx = RenderContext(
        user_vars=dict(user_vars),
        template_path=template.path,
        packer_version=PACKER_COMPAT_VERSION,
        **context,
    )
    engine = render_once if once else render
    return lambda text: engine(text, ctx) if "{{" in text else text


class _Preparer:
    """Prepares one build, appending problems to a shared list."""

    def __init__(self, template: Template, user_vars: Mapping[str, str], opts: PrepareOptions, problems: list[Problem]):
        self.template = template
        self.user_vars = user_vars
        self.opts = opts
        self.problems = problems
        self._placeholder_renderers: dict[str, Render] = {}

    def build(self, name: str, block: BuilderBlock) -> PreparedBuild | None:
        before = len(self.problems)
        info = BuildInfo(
            build_name=name,
            builder_type=block.type,
            template_path=self.template.path,
            user_variables=dict(self.user_vars),
            force=self.opts.force,
            debug=self.opts.debug,
            on_error=self.opts.on_error,
            run_uuid=self.opts.run_uuid,
            cache=self.opts.cache,
        )
        builder = self._builder(block, info)
        provisioners = [self._provisioner(p, block, info) for p in self.template.provisioners if not p.skip(block.name)]
        cleanup = None
        if self.template.cleanup_provisioner is not None:
            cleanup = self._provisioner(self.template.cleanup_provisioner, block, info)
        chains = self._post_processor_chains(block, info)
        if len(self.problems) > before or builder is None:
            return None
        return PreparedBuild(
            name=name,
            raw_name=block.name,
            builder_type=block.type,
            info=info,
            builder=builder,
            provisioners=[p for p in provisioners if p is not None],
            error_cleanup=cleanup,
            post_processors=chains,
        )

    def _lookup(self, kind: registry.Kind, type_name: str, where: Any, path: str) -> Any:
        try:
            plugin = registry.lookup(kind, type_name)
        except registry.PluginLoadError as exc:
            self.problems.append(Problem(str(exc), where, path))
            return None
        if plugin is None:
            known = ", ".join(registry.known(kind)) or "none"
            message = f"{registry.unknown_message(kind, type_name)} (imagesmith has: {known})"
            self.problems.append(Problem(message, where, path))
        return plugin

    def _builder(self, block: BuilderBlock, info: BuildInfo) -> Builder | None:
        plugin = self._lookup("builder", block.type, block.location, block.path)
        if plugin is None:
            return None
        render = make_renderer(
            self.template, self.user_vars, once=True, build_name=info.build_name, build_type=block.type
        )
        config = decode_config(
            plugin.config_class, [block.config], render=render, path=block.path, problems=self.problems
        )
        result: Builder = plugin(config, info)
        return result

    def _plugin_renderer(self, info: BuildInfo, data: Mapping[str, str] | None) -> Render:
        first = self._placeholder_renderers.get(info.build_name)
        if first is None:
            first = make_renderer(
                self.template,
                self.user_vars,
                once=True,
                build_name=info.build_name,
                build_type=info.builder_type,
                data=_PLACEHOLDERS,
                build_passthrough=True,
            )
            self._placeholder_renderers[info.build_name] = first
        if data is None:
            return first
        second = make_renderer(
            self.template,
            self.user_vars,
            once=True,
            build_name=info.build_name,
            build_type=info.builder_type,
            data=dict(data),
        )

        def render_with_data(text: str) -> str:
            out = first(text)
            return second(out) if "{{" in out else out

        return render_with_data

    def _provisioner(self, prov: ProvisionerBlock, block: BuilderBlock, info: BuildInfo) -> PreparedProvisioner | None:
        plugin = self._lookup("provisioner", prov.type, prov.location, prov.path)
        raws: list[Any] = [prov.config]
        if block.name in prov.override:
            override = prov.override[block.name]
            if not isinstance(override, dict):
                self.problems.append(Problem("an override must be an object", prov.location, f"{prov.path}.override"))
                return None
            raws.append(override)
        max_retries = self._max_retries(prov)
        if plugin is None or max_retries is None:
            return None
        path = prov.path
        checked = decode_config(
            plugin.config_class, raws, render=self._plugin_renderer(info, None), path=path, problems=self.problems
        )

        def make(data: Mapping[str, str]) -> Provisioner:
            config = decode_config(
                plugin.config_class, raws, render=self._plugin_renderer(info, data), path=path, problems=[]
            )
            made: Provisioner = plugin(config, info)
            return made

        return PreparedProvisioner(
            type_name=prov.type,
            make=make,
            pause_before=float(prov.pause_before),
            timeout=float(prov.timeout),
            max_retries=max_retries,
            key_config=checked,
            cache=prov.cache,
            cache_key_extra=self._cache_key_extra(prov),
        )

    def _cache_key_extra(self, prov: ProvisionerBlock) -> str:
        """``cache_key_extra`` rendered with the user variables (an imagesmith extension)."""
        try:
            return make_renderer(self.template, self.user_vars)(prov.cache_key_extra)
        except RenderError as exc:
            where = f"{prov.path}.cache_key_extra"
            self.problems.append(Problem(f"failed to interpolate `cache_key_extra`: {exc}", prov.location, where))
            return ""

    def _max_retries(self, prov: ProvisionerBlock) -> int | None:
        if not prov.max_retries:
            return 0
        where = f"{prov.path}.max_retries"
        try:
            text = make_renderer(self.template, self.user_vars)(prov.max_retries)
        except RenderError as exc:
            self.problems.append(Problem(f"failed to interpolate `max_retries`: {exc}", prov.location, where))
            return None
        digits = text[1:] if text[:1] in "+-" else text
        if not digits.isascii() or not digits.isdigit():
            self.problems.append(
                Problem(
                    f'`max_retries` must be a valid integer: strconv.Atoi: parsing "{text}": invalid syntax',
                    prov.location,
                    where,
                )
            )
            return None
        return int(text)

    def _post_processor_chains(self, block: BuilderBlock, info: BuildInfo) -> list[list[PreparedPostProcessor]]:
        chains: list[list[PreparedPostProcessor]] = []
        for chain in self.template.post_processors:
            current: list[PreparedPostProcessor] = []
            for pp in chain:
                if pp.skip(block.name):
                    continue
                if pp.name in self.opts.except_:
                    break  # -except=<pp name> cuts the chain here (Packer's Core.Build)
                prepared = self._post_processor(pp, info)
                if prepared is not None:
                    current.append(prepared)
            if current:
                chains.append(current)
        return chains

    def _post_processor(self, pp: PostProcessorBlock, info: BuildInfo) -> PreparedPostProcessor | None:
        plugin = self._lookup("post-processor", pp.type, pp.location, pp.path)
        if plugin is None:
            return None
        config = decode_config(
            plugin.config_class,
            [pp.config],
            render=self._plugin_renderer(info, None),
            path=pp.path,
            problems=self.problems,
        )
        made: PostProcessor = plugin(config, info)
        return PreparedPostProcessor(pp.type, pp.name, made, pp.keep_input_artifact)

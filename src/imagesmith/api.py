"""imagesmith's Python API: validate, inspect and build Packer 1.6.6 templates from a program.

The command line goes through these same functions (see docs/api.md)::

    import imagesmith

    imagesmith.validate("template.json", vars={"version": "1.2"})
    artifacts = imagesmith.build("template.json", only=["docker"], ui=my_ui)

Every failure is an :class:`~imagesmith.errors.ImagesmithError`: a bad template raises
:class:`~imagesmith.errors.TemplateError` (all problems at once, located), builds that ran and
failed raise :class:`BuildFailed`, which carries each failed build's error and the artifacts of
the builds that succeeded.

Each call is one *run* with its own state, shared with nothing else in the process: run UUID
(``PACKER_RUN_UUID`` for shell-local, the manifest's ``packer_run_uuid``), secret filter
(sensitive variables are masked in this run's output only), start time (``{{timestamp}}``,
``{{isotime}}``) and port reservations (released when the run ends). Runs may go one after the
other or at once, in threads or as asyncio tasks (:func:`build_async`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagesmith.errors import ImagesmithError, TemplateError

if TYPE_CHECKING:
    from imagesmith.core.plugin import Artifact
    from imagesmith.core.prepared import PreparedBuild
    from imagesmith.template.model import Template
    from imagesmith.ui import Ui

ON_ERROR = ("cleanup", "abort", "ask", "run-cleanup-provisioner")
CACHE_MODES = ("off", "read", "readwrite")


class BuildFailed(ImagesmithError):
    """One or more builds failed or were interrupted.

    - ``errors``: build name → its error message, for every build that failed (in build order);
    - ``artifacts``: what the builds that did succeed produced (yours to keep or destroy);
    - ``interrupted``: the run was stopped by SIGINT/SIGTERM (or cancelled) before finishing.
    """

    def __init__(self, errors: Mapping[str, str], artifacts: Sequence[Artifact], interrupted: bool = False) -> None:
        self.errors = dict(errors)
        self.artifacts = list(artifacts)
        self.interrupted = interrupted
        head = "builds were interrupted" if interrupted else f"{len(self.errors)} build(s) failed"
        lines = [f"--> {name}: {error}" for name, error in self.errors.items()]
        super().__init__("\n".join([head, *lines]))


@dataclass(frozen=True)
class InspectedVariable:
    """A template variable as ``inspect`` shows it; a sensitive default reads ``<sensitive>``."""

    name: str
    default: str
    required: bool
    sensitive: bool


@dataclass(frozen=True)
class Inspection:
    """What a template declares, before anything is rendered (Packer's ``inspect``)."""

    path: str
    description: str
    variables: list[InspectedVariable]
    builders: list[tuple[str, str]]  # (name, type), in template order
    provisioners: list[str]  # types, in template order
    post_processors: list[list[str]]  # types of each chain
    hcl2_report: str = ""  # HCL2 configuration: Packer's "HCL2 mode" report, shown instead


@contextmanager
def run_scope() -> Iterator[None]:
    """One run's private state (secrets, clock, ports) for the code inside and the tasks it starts."""
    from imagesmith.core.ports import port_scope
    from imagesmith.secrets import run_filter
    from imagesmith.template.context import run_clock

    with ExitStack() as stack:
        secrets = stack.enter_context(run_filter())
        stack.enter_context(run_clock())
        stack.enter_context(port_scope())
        try:
            yield
        except ImagesmithError as exc:  # masked while the run's secrets are known: callers print it after
            _mask_error(exc, secrets.scrub)
            raise


def _mask_error(exc: ImagesmithError, scrub: Callable[[str], str]) -> None:
    exc.message, exc.hint = scrub(exc.message), scrub(exc.hint)
    exc.args = (exc.message,)
    if isinstance(exc, TemplateError):
        exc.problems = [dataclasses.replace(p, message=scrub(p.message)) for p in exc.problems]
    if isinstance(exc, BuildFailed):
        exc.errors = {name: scrub(error) for name, error in exc.errors.items()}


def load(
    path: str, vars: Mapping[str, str] | None = None, var_files: Sequence[str] = (), run_datasources: bool = True
) -> Template:
    """Read and parse the template at ``path`` (``-``: stdin); raise TemplateError with every problem.

    HCL2 configuration (``*.pkr.hcl``, ``*.pkr.json``, a directory) takes its variables here
    (``vars``, ``var_files``, ``PKR_VAR_*``); a JSON template takes them when builds are prepared.
    HCL2 data sources run unless ``run_datasources`` is false (then their outputs are unknown).
    """
    from imagesmith.template.model import is_hcl2

    if is_hcl2(path):
        from imagesmith.template.hcl2_bridge import load_hcl2

        return load_hcl2(path, vars, var_files, run_datasources=run_datasources)
    from imagesmith.core.prepare import load_template

    return load_template(path)


def validate(
    path: str,
    *,
    vars: Mapping[str, str] | None = None,
    var_files: Sequence[str] = (),
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
    syntax_only: bool = False,
    evaluate_datasources: bool = False,
) -> None:
    """Check the template fully, with nothing built or touched; raise TemplateError with every problem.

    HCL2 data sources are checked but not executed unless ``evaluate_datasources`` (current Packer's
    ``-evaluate-datasources``): their outputs are unknown, so what uses them is checked by type only.
    """
    from imagesmith.template.model import is_hcl2

    with run_scope():
        if syntax_only and is_hcl2(path):
            from imagesmith.template.hcl2_bridge import check_hcl2_syntax

            check_hcl2_syntax(path)
            return
        template = load(path, vars, var_files, run_datasources=evaluate_datasources)
        if not syntax_only:
            _prepare(template, vars, var_files, only, except_)


def inspect(path: str) -> Inspection:
    """The template's variables, builders, provisioners and post-processors (raises TemplateError)."""
    from imagesmith.template.model import is_hcl2

    if is_hcl2(path):
        from imagesmith.template.hcl2_inspect import inspect_hcl2

        with run_scope():
            report = inspect_hcl2(path)
        return Inspection(path, "", [], [], [], [], hcl2_report=report)
    with run_scope():
        template = load(path)
    hidden = set(template.sensitive_variables)
    variables = [
        InspectedVariable(name, "<sensitive>" if name in hidden else var.default, var.required, name in hidden)
        for name, var in sorted(template.variables.items())
    ]

    return Inspection(
        path=template.path,
        description=template.description,
        variables=variables,
        builders=[(b.name, b.type) for b in template.builders],
        provisioners=[p.type for p in template.provisioners],
        post_processors=[[pp.type for pp in chain] for chain in template.post_processors],
    )


def build(
    path: str,
    *,
    vars: Mapping[str, str] | None = None,
    var_files: Sequence[str] = (),
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
    parallel_builds: int = 0,
    on_error: str = "cleanup",
    force: bool = False,
    debug: bool = False,
    ui: Ui | None = None,
    timestamps: bool = False,
    cache: str = "off",
) -> list[Artifact]:
    """Run the template's builds and return their artifacts, in build order.

    ``parallel_builds``: at most this many builds at once (0: no limit). ``on_error``: Packer's
    ``-on-error`` (cleanup, abort, ask, run-cleanup-provisioner). ``ui``: where output goes
    (default: the console, uncoloured). Raises TemplateError before anything runs, BuildFailed
    when a build failed. Runs its own event loop; called from the main thread, SIGINT/SIGTERM
    cancel the builds (and their cleanups run) for the duration of the call. ``cache``: the layer
    cache mode, ``off``, ``read`` or ``readwrite`` (docs/layers.md).
    """
    coro = _build(
        path, vars, var_files, only, except_, parallel_builds, on_error, force, debug, ui, timestamps, True, cache
    )
    return asyncio.run(coro)


async def build_async(
    path: str,
    *,
    vars: Mapping[str, str] | None = None,
    var_files: Sequence[str] = (),
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
    parallel_builds: int = 0,
    on_error: str = "cleanup",
    force: bool = False,
    debug: bool = False,
    ui: Ui | None = None,
    timestamps: bool = False,
    cache: str = "off",
) -> list[Artifact]:
    """:func:`build` on the caller's event loop. It installs no signal handlers; cancelling the
    awaiting task cancels the builds, waits for their cleanups, and raises CancelledError."""
    return await _build(
        path, vars, var_files, only, except_, parallel_builds, on_error, force, debug, ui, timestamps, False, cache
    )


async def _build(
    path: str,
    vars: Mapping[str, str] | None,
    var_files: Sequence[str],
    only: Sequence[str],
    except_: Sequence[str],
    parallel_builds: int,
    on_error: str,
    force: bool,
    debug: bool,
    ui: Ui | None,
    timestamps: bool,
    handle_signals: bool,
    cache: str = "off",
) -> list[Artifact]:
    from imagesmith.core.run_builds import RunOptions, run_all
    from imagesmith.ui import ConsoleUi

    if on_error not in ON_ERROR:
        raise ImagesmithError(f"on_error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
    if cache not in CACHE_MODES:
        raise ImagesmithError(f"cache must be one of {', '.join(CACHE_MODES)}, not {cache!r}")
    import uuid

    with run_scope():
        run_uuid = str(uuid.uuid4())
        template = load(path, vars, var_files)
        builds = _prepare(template, vars, var_files, only, except_, force, debug, on_error, run_uuid, cache)
        out = ui if ui is not None else ConsoleUi(color=False)
        color = isinstance(out, ConsoleUi) and out.color
        opts = RunOptions(
            max(parallel_builds, 0), debug=debug, color=color, timestamps=timestamps, handle_signals=handle_signals
        )
        result = await run_all(builds, out, opts)
        artifacts = [a for outcome in result.outcomes if outcome.error is None for a in outcome.artifacts]
        errors = {o.name: o.error for o in result.outcomes if o.error is not None}
        if errors or result.interrupted:
            raise BuildFailed(errors, artifacts, interrupted=result.interrupted)
    return artifacts


def _prepare(
    template: Template,
    vars: Mapping[str, str] | None,
    var_files: Sequence[str],
    only: Sequence[str],
    except_: Sequence[str],
    force: bool = False,
    debug: bool = False,
    on_error: str = "cleanup",
    run_uuid: str = "",
    cache: str = "off",
) -> list[PreparedBuild]:
    from imagesmith.core.prepare import PrepareOptions, prepare_builds
    from imagesmith.template.model import HCL2Template

    if isinstance(template, HCL2Template):  # its variables were applied when it was loaded
        if not template.builders:  # valid in HCL2 (a JSON template needs a builder)
            return []
        vars, var_files = {}, ()
    options = PrepareOptions(
        vars=dict(vars or {}),
        var_files=list(var_files),
        only=list(only),
        except_=list(except_),
        force=force,
        debug=debug,
        on_error=on_error,
        run_uuid=run_uuid,
        cache=cache,
    )
    return prepare_builds(template, options)

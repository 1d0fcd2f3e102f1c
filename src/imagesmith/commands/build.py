"""``imagesmith build [options] TEMPLATE``: run the template's builds (Packer 1.6.6's ``packer build``).

The flags are turned into a call of :func:`imagesmith.api.build`, the same function programs use.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from imagesmith.commands._vars import add_only_except_flags, add_var_flags, collect_vars, split_names
from imagesmith.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from imagesmith.ui import ConsoleUi, MachineReadableUi, Ui

ON_ERROR = ("cleanup", "abort", "ask", "run-cleanup-provisioner")
CACHE_MODES = ("off", "read", "readwrite")


def add_arguments(parser: Any) -> None:
    parser.flag("color", action="store_true", default=True, help="Disable color output with -color=false.")
    parser.flag("debug", action="store_true", default=False, help="Debug mode enabled for builds.")
    add_only_except_flags(parser)
    parser.flag("force", action="store_true", default=False, help="Delete existing artifacts and build anyway.")
    parser.flag(
        "cache",
        default=os.environ.get("IMAGESMITH_CACHE") or "readwrite",
        metavar="|".join(CACHE_MODES),
        help="Provisioner layer cache (docs/layers.md); default readwrite, or $IMAGESMITH_CACHE.",
    )
    parser.flag(
        "on-error",
        default="cleanup",
        metavar="|".join(ON_ERROR),
        help="If the build fails do: clean up (default), abort, ask, or run-cleanup-provisioner.",
    )
    parser.flag("parallel-builds", default="0", metavar="N", help="Number of builds to run in parallel (0: no limit).")
    parser.flag("timestamp-ui", action="store_true", default=False, help="Prefix each ui line with an RFC3339 time.")
    add_var_flags(parser)
    add_farm_flags(parser)
    parser.add_argument("template", nargs="?", help="the template file ('-' for stdin)")


def run(options: argparse.Namespace) -> int:
    """Build through :func:`imagesmith.api.build` (which prints the summary); return the exit status."""
    from imagesmith.api import BuildFailed, build

    if not options.template:
        raise UsageError("a template file is required", hint="imagesmith build [options] TEMPLATE")
    if options.on_error not in ON_ERROR:
        raise UsageError(
            f'invalid value "{options.on_error}" for flag -on-error: value must be one of: {", ".join(ON_ERROR)}'
        )
    if options.cache not in CACHE_MODES:
        raise UsageError(
            f'invalid value "{options.cache}" for flag -cache: value must be one of: {", ".join(CACHE_MODES)}'
        )
    parallel = _parse_int(options.parallel_builds, "parallel-builds")
    variables, var_files = collect_vars(options)
    if options.executor or options.artifact_store or options.route:
        return run_on_farm(options, variables, var_files)
    try:
        build(
            options.template,
            vars=variables,
            var_files=var_files,
            only=split_names(options.only),
            except_=split_names(getattr(options, "except")),
            parallel_builds=max(parallel, 0),
            on_error=options.on_error,
            force=options.force,
            debug=options.debug,
            ui=make_ui(options),
            timestamps=options.timestamp_ui,
            cache=options.cache,
        )
    except BuildFailed as exc:  # the summary already named every failed build
        return EXIT_INTERRUPTED if exc.interrupted else EXIT_FAILED
    return EXIT_OK


def add_farm_flags(parser: Any) -> None:
    """The build farm's flags (docs/farm.md); without -executor, nothing of the farm is imported."""
    parser.flag("executor", default="", metavar="celery+redis://HOST:PORT/DB", help="Run the builds on a farm.")
    parser.flag("artifact-store", default="", metavar="URL", help="Farm: put artifacts at file:///dir or s3://bucket/p.")
    parser.flag("route", action="append", default=[], metavar="BUILD=CAPABILITY", help="Farm: send a build to a queue.")


def run_on_farm(options: argparse.Namespace, variables: dict[str, str], var_files: list[str]) -> int:
    from imagesmith.farm.client import BuildSettings, FarmOptions, build_on_farm
    from imagesmith.farm.routing import parse_routes

    if not options.executor:
        raise UsageError("-artifact-store and -route need -executor", hint="-executor=celery+redis://HOST:PORT/DB")
    if options.debug or options.on_error == "ask":  # both pause for the terminal, which is not on the worker
        raise UsageError("-debug and -on-error=ask cannot be used with -executor (builds run on other machines)")
    ui = make_ui(options)
    settings = BuildSettings(
        vars=variables,
        var_files=var_files,
        only=split_names(options.only),
        except_=split_names(getattr(options, "except")),
        on_error=options.on_error,
        force=options.force,
        timestamps=options.timestamp_ui,
        color=isinstance(ui, ConsoleUi) and ui.color,
    )
    farm = FarmOptions(options.executor, options.artifact_store, parse_routes(options.route))
    return build_on_farm(options.template, settings, farm, ui)


def make_ui(options: argparse.Namespace) -> Ui:
    """Machine-readable, or the console (coloured unless -color=false, PACKER_NO_COLOR or not a terminal)."""
    if options.machine_readable:
        return MachineReadableUi(sys.stdout)
    color = bool(options.color) and not os.environ.get("PACKER_NO_COLOR")
    return ConsoleUi(sys.stdout, sys.stdout, color=color)  # Packer 1.6.6 writes errors to stdout too


def _parse_int(text: str, flag: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise UsageError(f'invalid value "{text}" for flag -{flag}: parse error') from None

"""``imagesmith validate``: the full check of a template, with nothing built and nothing touched.

Packer 1.6.6 behaviour, improved where noted (see docs/differences.md and tests/compat/DIFFERENCES.md):

* ``-syntax-only`` parses the template only and prints ``Syntax-only check passed. Everything looks okay.``;
* otherwise every builder, provisioner and post-processor block of every selected build is decoded
  and checked, and **all** problems are reported at once, each with ``file:line:col`` and its path
  (Packer stops at the first failing stage and gives no positions);
* on success imagesmith says ``The configuration is valid.`` (Packer 1.6.6 prints nothing; later
  Packer releases print the same sentence); errors go to stderr and exit with 1, as in Packer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from imagesmith.commands._vars import add_only_except_flags, add_var_flags, collect_vars, split_names
from imagesmith.errors import UsageError


def add_arguments(parser: Any) -> None:
    parser.flag("syntax-only", action="store_true", help="Only check syntax. Do not verify config of the template.")
    # as current Packer: without this flag HCL2 data sources are checked, not run (their outputs are unknown)
    parser.flag(
        "evaluate-datasources",
        action="store_true",
        help="Evaluate data sources for validation (HCL2 only, may incur costs).",
    )
    add_only_except_flags(parser, "Validate")
    add_var_flags(parser)
    parser.add_argument("template", nargs="*", help="the JSON template (- for stdin)")


def template_arg(options: argparse.Namespace, verb: str, optional: bool = False) -> str | None:
    """The one TEMPLATE argument (Packer: exactly one, else usage and exit 1)."""
    args: list[str] = list(options.template or [])
    if optional and not args:
        return None
    if len(args) != 1:
        raise UsageError(
            f"{verb} takes exactly one TEMPLATE argument, got {len(args)}",
            hint=f"usage: imagesmith {verb} [options] TEMPLATE",
        )
    return args[0]


def run(options: argparse.Namespace) -> int:
    if not options.machine_readable:
        print(check(options))
        return 0
    from imagesmith.errors import ImagesmithError
    from imagesmith.ui import MachineReadableUi

    ui = MachineReadableUi(sys.stdout)
    try:
        ui.say(check(options))
    except ImagesmithError as exc:  # -machine-readable: errors are ui,error lines on stdout, as in Packer
        ui.error(f"Error: {exc}")
        return 1
    return 0


def check(options: argparse.Namespace) -> str:
    """Run the check the options ask for (:func:`imagesmith.api.validate`); return the success message."""
    from imagesmith.api import validate

    path = template_arg(options, "validate")
    assert path is not None
    variables, var_files = collect_vars(options)
    validate(
        path,
        vars=variables,
        var_files=var_files,
        only=split_names(options.only),
        except_=split_names(getattr(options, "except")),
        syntax_only=options.syntax_only,
        evaluate_datasources=options.evaluate_datasources,
    )
    if options.syntax_only:
        return "Syntax-only check passed. Everything looks okay."
    return "The configuration is valid."

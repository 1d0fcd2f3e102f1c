"""The ``-var``, ``-var-file``, ``-only`` and ``-except`` flags shared by build, validate and console.

Packer 1.6.6 semantics: ``-var k=v`` splits on the first ``=`` (a missing ``=`` is a usage
error), may be repeated (a later ``-var`` for the same key wins), and every ``-var`` beats every
``-var-file`` whatever their order on the command line (the merging happens in
:mod:`imagesmith.template.variables`). ``-only``/``-except`` take comma-separated build names
and may be repeated.
"""

from __future__ import annotations

import argparse
from typing import Any

from imagesmith.errors import UsageError
from imagesmith.template.engine.gofmt import quote_string


def add_var_flags(parser: Any) -> None:
    """Add ``-var`` and ``-var-file`` (both repeatable) to a :class:`imagesmith.cli.GoFlagParser`."""
    parser.flag("var", action="append", default=[], metavar="'key=value'", help="variable for templates (repeatable)")
    parser.flag("var-file", action="append", default=[], metavar="path", help="JSON file of user variables")


def add_only_except_flags(parser: Any, verb: str = "Build") -> None:
    """Add ``-only`` and ``-except`` (comma-separated build names, repeatable)."""
    parser.flag("only", action="append", default=[], metavar="foo,bar,baz", help=f"{verb} only these builds.")
    parser.flag("except", action="append", default=[], metavar="foo,bar,baz", help=f"{verb} all builds but these.")


def parse_var_args(args: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` → dict; later keys win. A missing ``=`` raises :class:`UsageError` as Packer does."""
    out: dict[str, str] = {}
    for arg in args:
        key, eq, value = arg.partition("=")
        if not eq:
            raise UsageError(f"invalid value {quote_string(arg)} for flag -var: No '=' value in arg: {arg}")
        out[key] = value
    return out


def split_names(values: list[str] | None) -> list[str]:
    """Flatten repeated comma-separated flag values (``-only=a,b -only=c`` → ``[a, b, c]``)."""
    out: list[str] = []
    for value in values or []:
        out += [name for name in value.split(",") if name]
    return out


def collect_vars(options: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    """The ``-var`` values (as a dict) and the ``-var-file`` paths (in command-line order)."""
    variables = parse_var_args(list(getattr(options, "var", None) or []))
    var_files = list(getattr(options, "var_file", None) or [])
    return variables, var_files

"""``imagesmith console [TEMPLATE]``: try out template interpolation, as ``packer console`` (JSON mode).

On a terminal it is a REPL (``> `` prompt; ``variables``, ``help``, ``exit``, Ctrl-D). With piped
stdin each line is evaluated in turn. Differences from Packer 1.6.6, on purpose: piped mode prints
every line's result (Packer prints only the last one) and exits 1 if any line failed (Packer exits
0); variables are listed sorted (Packer's order is random). Sensitive values print as
``<sensitive>``. As in Packer, the context has the user variables but no build, no ``env`` and no
``packer_version``. With ``-machine-readable`` each answer is a ``ui,say`` record, and a failing line
Packer's ``???????: Interpolation error`` record followed by an empty one, as Packer prints them.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from imagesmith.commands._vars import add_var_flags, collect_vars
from imagesmith.errors import ImagesmithError, RenderError, TemplateError
from imagesmith.secrets import scrub
from imagesmith.ui import MachineReadableUi

HELP = """Packer console JSON Mode.
The Packer console allows you to experiment with Packer interpolations.
You may access variables in the Packer config you called the console with.

Type in the interpolation to test and hit <enter> to see the result.

"variables" will dump all available variables and their values.

"{{timestamp}}" will output the timestamp, for example "1559855090".

To exit the console, type "exit" and hit <enter>, or use Control-C."""


def add_arguments(parser: Any) -> None:
    add_var_flags(parser)
    parser.flag("config-type", default="json", help="json or hcl2: the mode when no TEMPLATE is given")
    parser.add_argument("template", nargs="*", help="the JSON template (- for stdin is not possible here)")


def run(options: argparse.Namespace) -> int:
    from imagesmith.commands.validate import template_arg

    path = template_arg(options, "console", optional=True)
    variables, var_files = collect_vars(options)
    if _hcl2_mode(path, options.config_type):
        return _run_hcl2(path, variables, var_files)
    user_vars, render = _make_evaluator(path, variables, var_files)
    show = _show_machine_readable if options.machine_readable else _show
    if sys.stdin.isatty():
        return _repl(user_vars, render, show)
    return _piped(user_vars, render, show)


def _hcl2_mode(path: str | None, config_type: str) -> bool:
    from imagesmith.template.hcl2_bridge import is_hcl2

    return is_hcl2(path) if path else config_type == "hcl2"


def _run_hcl2(path: str | None, variables: dict[str, str], var_files: list[str]) -> int:
    """HCL2 configuration (or ``-config-type=hcl2``): :mod:`imagesmith.template.hcl2_console`."""
    from imagesmith.template.hcl2_console import load_console, prompt_lines, run_console

    console, warnings = load_console(path, variables, var_files)
    for warning in warnings:
        print(f"Warning: {scrub(warning)}", file=sys.stderr)
    if sys.stdin.isatty():
        return run_console(console, prompt_lines(), interactive=True)
    return run_console(console, sys.stdin, interactive=False)


def _make_evaluator(
    path: str | None, variables: dict[str, str], var_files: list[str]
) -> tuple[dict[str, str], Callable[[str], str]]:
    from imagesmith.core.prepare import load_template
    from imagesmith.template.model import Template
    from imagesmith.template.parse import check_template
    from imagesmith.template.variables import check_required, merge_given, render_variables

    template = load_template(path) if path else Template(path="", display="")
    given = merge_given(variables, var_files)
    user_vars = dict(given)
    problems = check_template(template) + check_required(template, given) if path else []
    try:
        if problems:
            raise TemplateError(problems)
        user_vars = {}
        render_variables(template, given, into=user_vars)
    except ImagesmithError as exc:  # Packer's console carries on with what it has rendered so far
        print(f"Warning: {scrub(str(exc))}", file=sys.stderr)
    return user_vars, _make_renderer(template.path, user_vars)


def _make_renderer(template_path: str, user_vars: Mapping[str, str]) -> Callable[[str], str]:
    """Packer 1.6.6's console context: the user variables and the template's directory; no build, no
    ``env`` and no ``packer_version`` (both fail there with "... not available"/"not allowed here")."""
    from imagesmith.template.context import RenderContext
    from imagesmith.template.engine import render

    ctx = RenderContext(user_vars=dict(user_vars), template_path=template_path)
    return lambda text: render(text, ctx) if "{{" in text else text


#: what a console prints: ``show(answer, None)`` or ``show(None, error)``
Show = Callable[[str | None, RenderError | None], None]


def _show(answer: str | None, error: RenderError | None) -> None:
    if error is not None:
        print(f"Error: interpolation error: {scrub(str(error))}", file=sys.stderr)
    elif answer is not None:
        print(scrub(answer))


def _show_machine_readable(answer: str | None, error: RenderError | None) -> None:
    """Packer's records: an answer is a ``say``; an error is a ``say`` of its message wrapped at 80
    columns under ``???????: Interpolation error``, then an empty ``say``."""
    ui = MachineReadableUi(sys.stdout)
    if error is not None:
        wrapped = "\n".join(
            textwrap.fill(line, 80, break_long_words=False, break_on_hyphens=False) for line in str(error).split("\n")
        )
        ui.say(f"???????: Interpolation error\n\n{wrapped}\n\n")
        ui.say("")
    elif answer is not None:
        ui.say(answer)


def evaluate(line: str, user_vars: Mapping[str, str], render: Callable[[str], str]) -> tuple[str | None, bool]:
    """``(output, stop)`` for one console line; raises RenderError for a bad expression."""
    if line == "":
        return "", False  # Packer answers an empty line with an empty line
    if line == "exit":
        return None, True
    if line == "help":
        return HELP, False
    if line == "variables":
        return "\n" + "".join(f"{k}: {v},\n" for k, v in sorted(user_vars.items())), False
    return render(line), False


def _piped(user_vars: Mapping[str, str], render: Callable[[str], str], show: Show) -> int:
    code = 0
    for raw in sys.stdin:
        line = raw.removesuffix("\n").removesuffix("\r")  # as Go's line scanner: spaces are kept
        try:
            out, _ = evaluate(line, user_vars, render)
        except RenderError as exc:
            show(None, exc)
            code = 1
            continue
        show(out, None)
    return code


def _repl(user_vars: Mapping[str, str], render: Callable[[str], str], show: Show) -> int:
    with contextlib.suppress(ImportError):  # line editing and history for input()
        import readline  # noqa: F401
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        try:
            out, stop = evaluate(line.strip(), user_vars, render)
        except RenderError as exc:
            show(None, exc)
            continue
        if stop:
            return 0
        show(out, None)

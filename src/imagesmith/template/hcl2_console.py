"""``console`` on HCL2 configuration: each line is an HCL expression, evaluated as ``packer console`` does.

The context is Packer's console context: ``var.*``, ``local.*``, ``data.*``, ``path.*``,
``packer.version`` and the function library (no ``source`` and no ``build``, which only exist
inside a build). A configuration that does not parse is an error; any other problem (an unset
variable, a failed validation) is printed as a warning and the console carries on with the values
it has, as Packer's does (unset variables are ``<unknown>``). Answers are printed as Packer
prints them (:func:`~imagesmith.hcl2.display.printable`), sensitive values as ``<sensitive>``.
``help``, ``variables`` and ``exit`` are Packer's commands.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from imagesmith.errors import TemplateError
from imagesmith.hcl2.diagnostics import Diagnostics, HCLError
from imagesmith.hcl2.display import printable
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.packer import decode as hdecode
from imagesmith.hcl2.packer.model import Template
from imagesmith.hcl2.parser import parse_expression
from imagesmith.secrets import scrub
from imagesmith.template.engine.gofmt import quote_string
from imagesmith.template.hcl2_bridge import check_hcl2_syntax, problem_of, register_secrets

HELP = """Packer console HCL2 Mode.
The Packer console allows you to experiment with Packer interpolations.
You may access variables and functions in the Packer config you called the
console with.

Type in the interpolation to test and hit <enter> to see the result.

"upper(var.foo.id)" would evaluate to the ID of "foo" and uppercase is, if it
exists in your config file.

"variables" will dump all available variables and their values.

To exit the console, type "exit" and hit <enter>, or use Control-C.

/!\\ It is not possible to use go templating interpolation like "{{timestamp}}"
with in HCL2 mode."""


class HCL2Console:
    """The state of one console session: the decoded configuration and its evaluation context."""

    def __init__(self, tpl: Template) -> None:
        self.tpl = tpl
        full = hdecode.eval_context(tpl)
        names = {k: v for k, v in (full.variables or {}).items() if k not in ("build", "source")}
        self.context = EvalContext(names, full.functions)

    def answer(self, line: str) -> tuple[str, bool]:
        """``(output, stop)`` for one line; raises HCLError for an expression that fails."""
        if line == "":
            return "", False
        if line == "exit":
            return "", True
        if line == "help":
            return HELP, False
        if line == "variables":
            return self.variables(), False
        expr, diags = parse_expression(line, "<console-input>")
        if diags.has_errors():
            raise HCLError(diags.errors())
        val = evaluate(expr, self.context, diags)
        if diags.has_errors():
            raise HCLError(diags.errors())
        return printable(val), False

    def variables(self) -> str:
        """Packer's ``variables`` answer: every input variable and local with its printed value."""
        lines = ["> input-variables:", ""]
        for name, var in sorted(self.tpl.variables.items()):
            shown = "<sensitive>" if var.sensitive else printable(var.value) if var.value is not None else "<unknown>"
            lines.append(f"var.{name}: {quote_string(shown)}")
        lines += ["", "> local-variables:", ""]
        for name, local in sorted(self.tpl.locals.items()):
            val = self.tpl.local_values.get(name)
            shown = "<sensitive>" if local.sensitive else printable(val) if val is not None else "<unknown>"
            lines.append(f"local.{name}: {quote_string(shown)}")
        return "\n".join(lines) + "\n"


def load_console(
    path: str | None, vars: Mapping[str, str], var_files: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[HCL2Console, list[str]]:
    """The console for the configuration at ``path`` (None: an empty one), and the warnings to print."""
    if path is None:
        return HCL2Console(Template(os.getcwd())), []
    check_hcl2_syntax(path)
    var_args = [("-var-file", f) for f in var_files] + [("-var", f"{k}={v}") for k, v in vars.items()]
    tpl, diags = hdecode.load(Path(path), var_args, env)
    register_secrets(tpl)
    return HCL2Console(tpl), _warnings(diags)


def _warnings(diags: Diagnostics) -> list[str]:
    if not diags.has_errors():
        return []
    return [str(TemplateError([problem_of(d) for d in diags.errors()]))]


def run_console(console: HCL2Console, lines: Iterable[str], interactive: bool) -> int:
    """Answer each line until ``exit`` or the end; 1 if a piped line failed (interactive: 0)."""
    code = 0
    for raw in lines:
        line = raw.removesuffix("\n").removesuffix("\r").strip()
        try:
            out, stop = console.answer(line)
        except HCLError as exc:
            print(scrub(str(exc)), file=sys.stderr, flush=True)
            code = 0 if interactive else 1
            continue
        if stop:
            break
        print(scrub(out), flush=True)
    return code


def prompt_lines() -> Iterator[str]:
    """Lines typed at a ``> `` prompt, until Ctrl-D or Ctrl-C."""
    with contextlib.suppress(ImportError):  # line editing and history for input()
        import readline  # noqa: F401
    while True:
        try:
            yield input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return

"""``imagesmith inspect``: show a template's variables, builders and provisioners, as Packer 1.6.6 does.

Human output and ``-machine-readable`` (``template-variable``, ``template-builder``,
``template-provisioner`` events) follow Packer's ``Core.InspectConfig``, including its quirk that
Differences, on purpose: exactly the sensitive variables are shown as ``<sensitive>`` (Packer
compares default *values* through pointers it mutates while iterating a map, so other variables
whose default happens to be equal are hidden or not at random); required variables are sorted
(Packer's order is random); machine-readable output is scrubbed of secrets (Packer 1.6.6 leaks
them there). With ``-machine-readable``, errors are ``ui,error`` lines on stdout, as in Packer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from imagesmith.errors import ImagesmithError
from imagesmith.ui import ConsoleUi, MachineReadableUi, Ui

NOTE = (
    "\nNote: If your build names contain user variables or template\n"
    "functions such as 'timestamp', these are processed at build time,\n"
    "and therefore only show in their raw form here."
)


def add_arguments(parser: Any) -> None:
    parser.add_argument("template", nargs="*", help="the JSON template (- for stdin)")


def run(options: argparse.Namespace) -> int:
    from imagesmith.commands.validate import template_arg
    from imagesmith.core.prepare import load_template

    path = template_arg(options, "inspect")
    assert path is not None
    if not options.machine_readable:
        inspect_template(load_template(path), ConsoleUi(sys.stdout, sys.stdout))
        return 0
    ui = MachineReadableUi(sys.stdout)
    try:
        template = load_template(path)
    except ImagesmithError as exc:
        ui.error(f"Failed to parse template: {exc}")
        return 1
    inspect_template(template, ui)
    return 0


def inspect_template(template: Any, ui: Ui) -> None:
    """Write Packer's inspect report of ``template`` to ``ui``."""
    ui.say("Packer Inspect: JSON mode")
    if template.description:
        ui.say("Description:\n")
        ui.say(template.description + "\n")
    _say_variables(template, ui)
    ui.say("")
    ui.say("Builders:\n")
    if not template.builders:
        ui.say("  <No builders>")
    width = max((len(b.name) for b in template.builders), default=0)
    for block in sorted(template.builders, key=lambda b: b.name):
        line = f"  {block.name.ljust(width)}"
        if block.name != block.type:
            line += f" ({block.type})"
        ui.machine("template-builder", block.name, block.type)
        ui.say(line)
    ui.say("")
    ui.say("Provisioners:\n")
    if not template.provisioners:
        ui.say("  <No provisioners>")
    for prov in template.provisioners:
        ui.machine("template-provisioner", prov.type)
        ui.say(f"  {prov.type}")
    ui.say(NOTE)


def _say_variables(template: Any, ui: Ui) -> None:
    variables = template.variables
    if not variables:
        ui.say("Variables:\n")
        ui.say("  <No variables>")
        return
    hidden = set(template.sensitive_variables)

    def shown(name: str) -> str:
        default: str = variables[name].default
        return "<sensitive>" if name in hidden else default

    required = sorted(n for n, v in variables.items() if v.required)
    if required:
        ui.say("Required variables:\n")
        for name in required:
            ui.machine("template-variable", name, shown(name), "1")
            ui.say(f"  {name}")
        ui.say("")
    ui.say("Optional variables and their defaults:\n")
    width = max(len(n) for n in variables)
    for name in sorted(variables):
        if variables[name].required:
            continue
        ui.machine("template-variable", name, shown(name), "0")
        ui.say(f"  {name.ljust(width)} = {shown(name)}")

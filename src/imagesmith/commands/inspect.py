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
from typing import TYPE_CHECKING, Any

from imagesmith.errors import ImagesmithError
from imagesmith.ui import ConsoleUi, MachineReadableUi, Ui

if TYPE_CHECKING:
    from imagesmith.api import InspectedVariable, Inspection

NOTE = (
    "\nNote: If your build names contain user variables or template\n"
    "functions such as 'timestamp', these are processed at build time,\n"
    "and therefore only show in their raw form here."
)


def add_arguments(parser: Any) -> None:
    parser.add_argument("template", nargs="*", help="the JSON template (- for stdin)")


def run(options: argparse.Namespace) -> int:
    from imagesmith.api import inspect
    from imagesmith.commands.validate import template_arg

    path = template_arg(options, "inspect")
    assert path is not None
    if not options.machine_readable:
        say_inspection(inspect(path), ConsoleUi(sys.stdout, sys.stdout))
        return 0
    ui = MachineReadableUi(sys.stdout)
    try:
        inspection = inspect(path)
    except ImagesmithError as exc:
        ui.error(f"Failed to parse template: {exc}")
        return 1
    say_inspection(inspection, ui)
    return 0


def say_inspection(inspection: Inspection, ui: Ui) -> None:
    """Write Packer's inspect report of a template (:func:`imagesmith.api.inspect`) to ``ui``."""
    if inspection.hcl2_report:
        ui.say(inspection.hcl2_report)
        return
    ui.say("Packer Inspect: JSON mode")
    if inspection.description:
        ui.say("Description:\n")
        ui.say(inspection.description + "\n")
    _say_variables(inspection.variables, ui)
    ui.say("")
    ui.say("Builders:\n")
    if not inspection.builders:
        ui.say("  <No builders>")
    width = max((len(name) for name, _ in inspection.builders), default=0)
    for name, type_name in sorted(inspection.builders):
        line = f"  {name.ljust(width)}"
        if name != type_name:
            line += f" ({type_name})"
        ui.machine("template-builder", name, type_name)
        ui.say(line)
    ui.say("")
    ui.say("Provisioners:\n")
    if not inspection.provisioners:
        ui.say("  <No provisioners>")
    for type_name in inspection.provisioners:
        ui.machine("template-provisioner", type_name)
        ui.say(f"  {type_name}")
    ui.say(NOTE)


def _say_variables(variables: list[InspectedVariable], ui: Ui) -> None:
    if not variables:
        ui.say("Variables:\n")
        ui.say("  <No variables>")
        return
    required = sorted((v for v in variables if v.required), key=lambda v: v.name)
    if required:
        ui.say("Required variables:\n")
        for var in required:
            ui.machine("template-variable", var.name, var.default, "1")
            ui.say(f"  {var.name}")
        ui.say("")
    ui.say("Optional variables and their defaults:\n")
    width = max(len(v.name) for v in variables)
    for var in sorted(variables, key=lambda v: v.name):
        if var.required:
            continue
        ui.machine("template-variable", var.name, var.default, "0")
        ui.say(f"  {var.name.ljust(width)} = {var.default}")

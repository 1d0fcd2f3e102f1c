"""``imagesmith fix [-validate=true] TEMPLATE``: rewrite legacy keys, print the fixed JSON to stdout.

The output is byte for byte what Packer 1.6.6 prints (see :mod:`imagesmith.template.fix.gojson`).
With ``-validate`` (the default) the fixed template is then parsed and checked as ``packer fix``
does (template structure and ``Template.Validate``; plugins are not started), and exit code 1
reports a failure. Differences from Packer, all deliberate:

- Errors go to stderr as ``Error: ...`` (Packer prints them on stdout); the wording keeps Packer's
  core (``cannot open/parse/fix template``, ``the fixed template fails to parse``/``failed to
  validate``, the mapstructure ``N error(s) decoding`` list) and adds file:line:col where known,
  plus the name of the fixer that failed.
- JSON syntax errors in the input are reported by the project's loader, with line, column and a
  caret excerpt (Packer gives only Go's bare message). Validation problems are located in the
  fixed template as printed on stdout (``<fixed template>:line:col``).
- Inputs that crash Packer 1.6.6 (a builder without a string ``type``, ``null`` as the whole
  template, a non-string tag, ``ssh_private_ip``, ``elevated_user`` or ``image_labels`` of the
  wrong type, a non-list ``network_adapters``/``storage``) give a located error or are left
  alone instead of a Go panic (exit 2).
- Text after the template's JSON object is ignored, as in Packer, but with a warning on stderr.
- Templates nested more than 100 levels deep are refused with an error (Go allows 10000).
- ``-`` reads the template from stdin (Packer tries to open a file named ``-``).
- ``min_packer_version`` is not checked, as in Packer's ``fix``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from imagesmith.errors import ImagesmithError, Location, Problem, TemplateError
from imagesmith.template.fix import FIXERS, FixError, fix_template
from imagesmith.template.fix.gojson import format_fixed, parse_template

if TYPE_CHECKING:
    from imagesmith.cli import GoFlagParser

FIXED_NAME = "<fixed template>"
_AFTER_FAILURE = "This is usually caused by an error in the input template. Please fix the error and try again."


def _help_epilog() -> str:
    lines = ["Fixes that are run (in order):", ""]
    lines += [f"  {fixer.name:<27}{fixer.synopsis}" for fixer in FIXERS]
    lines += ["", "Options:", "", "  -validate=true      If true (default), validates the fixed template."]
    return "\n".join(lines)


def add_arguments(parser: GoFlagParser) -> None:
    """``-validate`` (default true, Go-style ``-validate=false``) and the TEMPLATE path."""
    parser.usage = "imagesmith fix [options] TEMPLATE"
    parser.description = (
        "Reads the JSON template and attempts to fix known backwards incompatibilities. "
        "The fixed template will be outputted to standard out."
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _help_epilog()
    parser.flag("validate", action="store_true", default=True, help="validate the fixed template (default true)")
    parser.add_argument("template", metavar="TEMPLATE")


def read_template_bytes(path: str) -> bytes:
    """The raw bytes of the template (``-`` = stdin), with Packer's messages for unreadable paths."""
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ImagesmithError(f"cannot open template: open {path}: no such file or directory") from None
    except IsADirectoryError:
        raise ImagesmithError(
            f"cannot read template: read {path}: is a directory",
            hint="imagesmith fix works on one JSON template file",
        ) from None
    except OSError as exc:
        raise ImagesmithError(f"cannot open template: open {path}: {exc.strerror or exc}") from None


def load_for_fix(data: bytes, display: str) -> dict[str, Any]:
    """Decode the template as ``packer fix`` does; syntax errors are worded by the project's loader."""
    try:
        template, trailing = parse_template(data, display)
    except TemplateError as exc:
        raise _nicer_syntax_error(data, display, exc) from None
    if trailing is not None:
        print(f"Warning: {trailing}: ignoring text after the template's JSON object", file=sys.stderr)
    return template


def _nicer_syntax_error(data: bytes, display: str, original: TemplateError) -> ImagesmithError:
    message = "cannot parse template: " + original.render()
    try:
        from imagesmith.template.load import parse_json
    except ImportError:
        return ImagesmithError(message)
    try:  # it fails at the same place, and words it better (Go's message, a caret excerpt)
        parse_json(data.decode("utf-8", "replace"), display)
    except TemplateError as exc:
        return ImagesmithError("cannot parse template: " + exc.render())
    return ImagesmithError(message)  # e.g. valid JSON that is not an object


def validate_fixed(text: str, path: str) -> None:
    """Parse and check the fixed text as ``packer fix`` does; raise ImagesmithError when it fails."""
    try:
        from imagesmith.template.load import parse_json
        from imagesmith.template.parse import check_min_version, check_template, parse_template
    except ImportError:  # the loader is not there: check the JSON syntax only
        _check_json_syntax(text)
        return
    try:
        tpl = parse_template(parse_json(text, FIXED_NAME), os.path.abspath(path), FIXED_NAME)
    except TemplateError as exc:
        raise ImagesmithError(f"the fixed template fails to parse: {exc.render()}", hint=_AFTER_FAILURE) from None
    min_version = check_min_version(tpl)
    problems = [problem for problem in check_template(tpl) if problem != min_version]
    if problems:
        render = TemplateError(problems).render()
        raise ImagesmithError(f"the fixed template failed to validate: {render}", hint=_AFTER_FAILURE)


def _check_json_syntax(text: str) -> None:
    import json

    try:
        json.loads(text)
    except ValueError as exc:
        problem = Problem(str(exc), Location(FIXED_NAME))
        raise ImagesmithError(f"the fixed template fails to parse: {problem}", hint=_AFTER_FAILURE) from None


def _write_stdout(text: str) -> None:
    """UTF-8 bytes whatever the locale, so the output is Packer's byte for byte."""
    try:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(text)
        else:
            buffer.write(text.encode("utf-8"))
            buffer.flush()
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, like a Go program on SIGPIPE
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(141) from None


def run(options: argparse.Namespace) -> int:
    """Fix the template, print it, and validate it unless ``-validate=false``."""
    path: str = options.template
    display = "<stdin>" if path == "-" else path
    template = load_for_fix(read_template_bytes(path), display)
    try:
        fixed = fix_template(template)
    except FixError as exc:
        raise FixError(f"cannot fix template: {exc.message}", hint=exc.hint) from None
    text = format_fixed(fixed)
    _write_stdout(text)
    if options.validate:
        validate_fixed(text, path)
    return 0

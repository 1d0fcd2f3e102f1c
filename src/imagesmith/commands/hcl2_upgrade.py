"""``imagesmith hcl2_upgrade [-output-file=PATH] [-with-annotations] TEMPLATE.json``: write the HCL2 twin
of a JSON template (:mod:`imagesmith.hcl2.upgrade`), by default to ``TEMPLATE.json.pkr.hcl`` as Packer
does, and say so. ``-with-annotations`` is accepted; imagesmith writes no annotation comments.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from imagesmith.errors import ImagesmithError, UsageError


def add_arguments(parser: Any) -> None:
    parser.flag("output-file", default="", help="Filename of the HCL2 file (default: TEMPLATE.pkr.hcl).")
    parser.flag("with-annotations", action="store_true", help="Accepted; no annotation comments are written.")
    parser.add_argument("template", nargs="*", help="the JSON template")


def run(options: argparse.Namespace) -> int:
    from imagesmith.hcl2.upgrade import upgrade_template

    args: list[str] = list(options.template or [])
    if len(args) != 1:
        raise UsageError(
            f"hcl2_upgrade takes exactly one TEMPLATE argument, got {len(args)}",
            hint="usage: imagesmith hcl2_upgrade [options] TEMPLATE.json",
        )
    source = Path(args[0])
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImagesmithError(f"Failed to read {source}: {exc.strerror}") from None
    except ValueError as exc:
        raise ImagesmithError(f"Failed to parse {source} as JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ImagesmithError(f"{source}: a JSON template is an object")
    target = Path(options.output_file or f"{source}.pkr.hcl")
    try:
        target.write_text(upgrade_template(raw), encoding="utf-8")
    except OSError as exc:
        raise ImagesmithError(f"Failed to write {target}: {exc.strerror}") from None
    print(f"Successfully created {target}. Exit 0")
    return 0

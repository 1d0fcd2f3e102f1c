"""``imagesmith fmt``: rewrite HCL2 configuration files (``*.pkr.hcl``, ``*.pkrvars.hcl``) canonically.

As current Packer's ``fmt``:

* each argument is a file, a directory (its configuration files; ``-recursive`` also its
  subdirectories, hidden and editor backup files skipped) or ``-`` (standard input to standard
  output);
* a file that does not parse is an error (``file:line:col``, with the source line) and is left alone;
  the other files are still formatted;
* each file that changes is named on standard output, rewritten unless ``-write=false`` or
  ``-check``, and ``-diff`` prints a unified diff;
* exit status: 1 after an error, 3 under ``-check`` when a file needs formatting, else 0.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagesmith.errors import ImagesmithError, UsageError

EXIT_NEEDS_FORMAT = 3  # as `packer fmt -check` (and `terraform fmt`)
_SUFFIXES = (".pkr.hcl", ".pkrvars.hcl")


def add_arguments(parser: Any) -> None:
    parser.flag("check", action="store_true", help="Check if the input is formatted; exit 3 if it is not.")
    parser.flag("diff", action="store_true", help="Display diffs of formatting changes.")
    parser.flag("write", action="store_true", default=True, help="Write to source files (-write=false: don't).")
    parser.flag("recursive", action="store_true", help="Also process files in subdirectories.")
    parser.add_argument("paths", nargs="*", help="files or directories to format (- for stdin)")


@dataclass
class _Run:
    """What one ``fmt`` run is asked to do, and what it found."""

    write: bool
    diff: bool
    recursive: bool
    changed: int = 0
    errors: list[str] = field(default_factory=list)


def run(options: argparse.Namespace) -> int:
    if not options.paths:
        raise UsageError("fmt needs at least one TEMPLATE argument", hint="usage: imagesmith fmt [options] TEMPLATE")
    state = _Run(write=options.write and not options.check, diff=options.diff, recursive=options.recursive)
    for path in options.paths:
        _format_path(state, path)
    if state.errors:
        for message in state.errors:
            print(message if message.startswith("Error: ") else f"Error: {message}", file=sys.stderr)
        return 1
    return EXIT_NEEDS_FORMAT if options.check and state.changed else 0


def _format_path(state: _Run, path: str) -> None:
    if path != "-" and os.path.isdir(path):
        _format_dir(state, Path(path))
    else:
        _format_file(state, path)


def _format_dir(state: _Run, directory: Path) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        state.errors.append(f"cannot read directory {directory}: {exc.strerror}")
        return
    for entry in entries:
        if _ignored(entry.name):
            continue
        if entry.is_dir():
            if state.recursive:
                _format_dir(state, directory / entry.name)
        elif entry.name.endswith(_SUFFIXES):
            _format_file(state, str(directory / entry.name))


def _ignored(name: str) -> bool:
    """Hidden files and editor leftovers (``x~``, ``#x#``), as Packer skips them."""
    return name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))


def _format_file(state: _Run, path: str) -> None:
    from imagesmith.hcl2.format import format_config

    if path != "-" and not path.endswith(_SUFFIXES):
        state.errors.append(f"{path}: not an HCL2 configuration file (expected *.pkr.hcl or *.pkrvars.hcl)")
        return
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        state.errors.append(f"failed to read {path}: {exc.strerror}")
        return
    try:
        out = format_config(data, "<stdin>" if path == "-" else path)
    except ImagesmithError as exc:
        state.errors.append(str(exc))  # HCL's diagnostics: "Error: ...", file:line:col, the source line
        return
    _report(state, path, data, out)


def _report(state: _Run, path: str, data: bytes, out: bytes) -> None:
    if path == "-":
        if out == data or state.write:
            sys.stdout.buffer.write(out)
        state.changed += out != data
        return
    if out == data:
        return
    state.changed += 1
    print(path, flush=True)
    if state.write:
        try:
            Path(path).write_bytes(out)
        except OSError as exc:
            state.errors.append(f"failed to write {path}: {exc.strerror}")
    if state.diff:
        _print_diff(path, data, out)


def _print_diff(path: str, old: bytes, new: bytes) -> None:
    lines = difflib.unified_diff(
        old.decode("utf-8", "surrogateescape").splitlines(keepends=True),
        new.decode("utf-8", "surrogateescape").splitlines(keepends=True),
        fromfile=f"old/{path}",
        tofile=f"new/{path}",
    )
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()

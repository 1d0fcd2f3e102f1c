"""Filesystem functions: file, fileexists, fileset, filebase64, abspath, basename, dirname, pathexpand,
templatefile. Relative paths are taken from the current directory, as Packer does."""

from __future__ import annotations

import base64
import glob
import os
from pathlib import Path

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.types import BOOL, DYNAMIC, STRING, SetType
from imagesmith.hcl2.values import Value, bool_val, set_val, string_val

_P = Param("path", STRING)


def _read(path: str) -> bytes:
    p = Path(os.path.expanduser(path))
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise FunctionError(f"no file exists at {path}; this function works only with files that are distributed as "
                            "part of the configuration source code, so if this file will be created by a resource "
                            "in this configuration you must instead obtain this result from an attribute of that "
                            "resource", 0) from None
    except IsADirectoryError:
        raise FunctionError(f'"{path}" is a directory, not a file', 0) from None
    except OSError as exc:
        raise FunctionError(f"failed to read {path}: {exc.strerror}", 0) from None


def _file(args: list[Value]) -> Value:
    path = args[0].as_str()
    try:
        return string_val(_read(path).decode("utf-8"))
    except UnicodeDecodeError:
        raise FunctionError(f"contents of {path} are not valid UTF-8; use the filebase64 function to obtain the "
                            "Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to "
                            "obtain file hashing results instead", 0) from None


def _fileexists(args: list[Value]) -> Value:
    p = Path(os.path.expanduser(args[0].as_str()))
    if not p.exists():
        return bool_val(False)
    if not p.is_file():
        raise FunctionError(f"{args[0].as_str()} is not a regular file, but {'a directory' if p.is_dir() else 'other'}",
                            0)
    return bool_val(True)


def _fileset(args: list[Value]) -> Value:
    root, pattern = args[0].as_str(), args[1].as_str()
    found = glob.glob(pattern, root_dir=root or ".", recursive=True)
    names = sorted(f.replace(os.sep, "/") for f in found if Path(root or ".", f).is_file())
    return set_val([string_val(n) for n in names], STRING)


def _dirname(p: str) -> str:
    return os.path.normpath(os.path.dirname(p)) if p else "."


def _basename(p: str) -> str:
    if p == "":
        return "."
    stripped = p.rstrip("/")
    return os.path.basename(stripped) if stripped else "/"


def _templatefile(args: list[Value]) -> Value:
    from imagesmith.hcl2.evaluator import EvalContext, evaluate
    from imagesmith.hcl2.functions import standard_functions
    from imagesmith.hcl2.parser import parse_template

    path, variables = args[0].as_str(), args[1]
    if not variables.is_null and variables.type.friendly_name() not in ("object", "map of " + str(
            getattr(getattr(variables.type, "elem", None), "name", ""))) and not isinstance(variables.v, dict):
        raise FunctionError("invalid vars value: must be a map", 1)
    text = _file([args[0]]).as_str()
    expr, diags = parse_template(text, path)
    if diags.has_errors():
        raise FunctionError(f"failed to parse template: {diags.errors()[0]}", 0)
    names = dict(variables.items()) if not variables.is_null else {}
    functions = standard_functions()
    functions.pop("templatefile", None)
    out = Diagnostics()
    val = evaluate(expr, EvalContext(names, functions), out)
    if out.has_errors():
        raise FunctionError(str(out.errors()[0]), 0)
    return val


FUNCTIONS = {
    "file": make([_P], STRING, _file),
    "fileexists": make([_P], BOOL, _fileexists),
    "fileset": make([_P, Param("pattern", STRING)], SetType(STRING), _fileset),
    "filebase64": make([_P], STRING, lambda a: string_val(base64.b64encode(_read(a[0].as_str())).decode())),
    "abspath": make([_P], STRING, lambda a: string_val(os.path.abspath(a[0].as_str()).replace(os.sep, "/"))),
    "basename": make([_P], STRING, lambda a: string_val(_basename(a[0].as_str()))),
    "dirname": make([_P], STRING, lambda a: string_val(_dirname(a[0].as_str()))),
    "pathexpand": make([_P], STRING, lambda a: string_val(os.path.expanduser(a[0].as_str()))),
    "templatefile": make([_P, Param("vars", DYNAMIC)], DYNAMIC, _templatefile),
}

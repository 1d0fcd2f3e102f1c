"""User variables: var files, ``-var``, required variables, chained defaults, sensitive values.

Packer 1.6.6 semantics (``command/meta.go``, ``packer/core.go``):

* var files are merged in order (a later file wins); then **every** ``-var`` beats every var
  file, whatever the order on the command line (the docs say otherwise; the code wins);
* defaults may refer to other variables (``{{user `x`}}``) and, only here, to ``env``,
  ``consul_key``, ``vault`` and ``aws_secretsmanager``; they are rendered in sorted key order,
  pass after pass (at most 100), until every reference resolves; ``{{ .X }}`` is left for later;
* a variable whose default is ``null`` must be given (``required variable not set: X``);
* the rendered values of ``sensitive-variables`` are masked everywhere imagesmith writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from imagesmith import PACKER_COMPAT_VERSION
from imagesmith.errors import Location, Problem, RenderError, TemplateError
from imagesmith.secrets import secrets
from imagesmith.template.model import Template

MAX_PASSES = 100
_USER_CALL = re.compile(r"{{\s*user\s*`.*`\s*}}")
_PROTECTED = re.compile(r"{{(\s|)\.(.*?)(\s|)}}")
_NOT_SET = "variable not set"


def read_var_file(path: str) -> dict[str, str]:
    """Read a ``-var-file``: one JSON object of strings (Go decodes only the first value)."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        raise TemplateError(f"open {path}: no such file or directory") from None
    except OSError as exc:
        raise TemplateError(f"open {path}: {exc.strerror or exc}") from None
    return parse_var_file(text, path)


def parse_var_file(text: str, path: str) -> dict[str, str]:
    """The variables in a var file's ``text``; errors are worded as Packer words them, plus the key."""
    decoder = json.JSONDecoder(object_pairs_hook=_Pairs)
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise TemplateError(f"Error reading variables in '{path}': EOF")
    try:
        value, _ = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        from imagesmith.template.load import parse_json

        parse_json(text[: exc.pos + 1], path)  # raises the Go-worded, located syntax error
        raise TemplateError(Problem(f"Error reading variables in '{path}': {exc.msg}", Location(path))) from None
    if value is None:
        return {}
    if not isinstance(value, _Pairs):
        kind = _go_json_kind(value)
        raise TemplateError(
            f"Error reading variables in '{path}': json: cannot unmarshal {kind} into Go value of type kvflag.FlagJSON"
        )
    out: dict[str, str] = {}
    for key, item in value:
        if item is None:
            out[key] = ""
        elif isinstance(item, str):
            out[key] = item
        else:
            raise TemplateError(
                f"Error reading variables in '{path}': json: cannot unmarshal {_go_json_kind(item)} into Go value "
                f"of type string (variable {key!r})"
            )
    return out


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's members in order (so duplicate keys behave as in Go: the later wins)."""


def _go_json_kind(value: Any) -> str:
    if isinstance(value, _Pairs):
        return "object"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def merge_given(cli_vars: Mapping[str, str], var_files: Sequence[str]) -> dict[str, str]:
    """Var files in order (later wins), then every ``-var`` over them (Packer 1.6.6 precedence)."""
    given: dict[str, str] = {}
    for path in var_files:
        given.update(read_var_file(path))
    given.update(cli_vars)
    return given


def check_required(tpl: Template, given: Mapping[str, str]) -> list[Problem]:
    """``required variable not set: X`` for each ``null`` variable missing from ``given``."""
    return [
        Problem(f"required variable not set: {name}", var.location or Location(tpl.display), f"variables.{name}")
        for name, var in sorted(tpl.variables.items())
        if var.required and name not in given
    ]


def render_variables(tpl: Template, given: Mapping[str, str], into: dict[str, str] | None = None) -> dict[str, str]:
    """Render defaults and given values to their final strings, as ``Core.renderVarsRecursively``.

    Raises TemplateError for an undefined reference or a failing function; ``into`` (filled in
    place and returned) then holds what was rendered so far, as Packer's ``console`` shows it.
    Registers the values of ``sensitive-variables`` with the secret filter.
    """
    from imagesmith.template.context import RenderContext

    raw: dict[str, str] = {name: var.default for name, var in tpl.variables.items()}
    raw.update(given)
    values: dict[str, str] = {} if into is None else into
    values.update(given)
    if raw:
        values[""] = ""  # Packer quirk: its sorted list starts with empty entries, so "" becomes a variable
    ctx = RenderContext(
        user_vars=values,
        enable_env=True,
        in_variables=True,
        template_path=tpl.path,
        packer_version=PACKER_COMPAT_VERSION,
    )
    where = {name: (var.location, f"variables.{name}") for name, var in tpl.variables.items()}
    # A name both declared and given is rendered twice per pass, as Packer lists it twice: observable
    # when a value refers to itself (`-var 'a={{user `a`}}!'` grows by two characters a pass).
    keys = sorted([*tpl.variables, *given])
    _render_passes([(k, raw[k]) for k in keys], values, ctx, where)
    for name in tpl.sensitive_variables:
        if name in tpl.variables and values.get(name):
            secrets.add(values[name])
    return values


def _render_passes(
    pending: list[tuple[str, str]],
    values: dict[str, str],
    ctx: Any,
    where: Mapping[str, tuple[Location | None, str]],
) -> None:
    failed = ""
    failed_key = ""
    previous: dict[str, str] | None = None
    for _ in range(MAX_PASSES):
        retry = changed = False
        done: set[str] = set()
        for key, raw in pending:
            try:
                rendered = render_protected(raw, ctx)
            except RenderError as exc:
                if _NOT_SET not in str(exc):
                    message = f"error interpolating default value for '{key}': {exc}"
                    raise TemplateError(Problem(message, *where.get(key, (None, key)))) from None
                retry = True
                failed, failed_key = f'"{key}": "{raw}"; error: {exc}', key
                continue
            changed = True
            values[key] = rendered
            if _USER_CALL.search(raw):
                retry = True
            else:
                done.add(key)
        if not retry:
            return
        snapshot = dict(values)
        if snapshot == previous:
            break  # a fixed point: the remaining passes would repeat this one
        previous = snapshot
        pending = [(k, v) for k, v in pending if k not in done]
    if not changed:
        message = (
            f"Failed to interpolate {failed}: Please make sure that the variable you're referencing has been "
            "defined; Packer treats all variables used to interpolate other user variables as required."
        )
        raise TemplateError(Problem(message, *where.get(failed_key, (None, failed_key))))


def render_protected(text: str, ctx: Any) -> str:
    """Render ``text`` leaving ``{{ .X }}`` actions untouched (Packer's ``RenderRegex``)."""
    from imagesmith.template.engine import render_once

    if "{{" not in text:
        return text
    kept: list[str] = []

    def hide(m: re.Match[str]) -> str:
        kept.append(m.group(0))
        return f"\x00IMAGESMITH{len(kept) - 1}\x00"

    hidden = _PROTECTED.sub(hide, text)
    out = render_once(hidden, ctx)  # one pass, as Packer's RenderRegex; the passes loop does the rest
    for i, original in enumerate(kept):
        out = out.replace(f"\x00IMAGESMITH{i}\x00", original)
    return out

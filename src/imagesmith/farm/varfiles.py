"""``-var-file`` under ``-executor``: what travels with the build, never a sensitive value.

A JSON template's var files are merged into the build's variables on the client. An HCL2 template's
var files hold typed HCL values (lists, maps, expressions), so they travel as text: each file is
cut down to the assignments of variables that are not ``sensitive`` (attributes are sliced from
the file's own bytes, so values keep their types and spelling), and the worker passes the copies
as ``-var-file`` in the same order. A sensitive variable comes from the worker's ``PKR_VAR_<name>``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

from imagesmith.errors import UsageError


def read_json_var_files(paths: Sequence[str]) -> dict[str, str]:
    """JSON ``-var-file`` contents of a JSON template, merged in order."""
    merged: dict[str, str] = {}
    for name in paths:
        try:
            data = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{name}: cannot read var file: {exc}") from None
        if not isinstance(data, dict):
            raise UsageError(f"{name}: a var file must be a JSON object")
        merged.update({str(k): str(v) for k, v in data.items()})
    return merged


def hcl2_var_files(paths: Sequence[str], sensitive: Collection[str]) -> list[dict[str, str]]:
    """Each HCL2 ``-var-file`` as ``{"name", "text"}`` without the sensitive variables' assignments."""
    sent: list[dict[str, str]] = []
    for i, name in enumerate(paths):
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise UsageError(f"{name}: cannot read var file: {exc.strerror}") from None
        if name.endswith(".json"):
            sent.append({"name": f"vars-{i:02d}.pkrvars.json", "text": _json_without(name, data, sensitive)})
        else:
            sent.append({"name": f"vars-{i:02d}.pkrvars.hcl", "text": _hcl_without(name, data, sensitive)})
    return sent


def _json_without(name: str, data: bytes, sensitive: Collection[str]) -> str:
    try:
        values = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"{name}: cannot read var file: {exc}") from None
    if not isinstance(values, dict):
        raise UsageError(f"{name}: a var file must be a JSON object")
    return json.dumps({k: v for k, v in values.items() if k not in sensitive})


def _hcl_without(name: str, data: bytes, sensitive: Collection[str]) -> str:
    from imagesmith.hcl2.parser import parse_config

    body, diags = parse_config(data, name)
    if diags.has_errors():  # the template's load reported it already; this is a second line of defence
        raise UsageError(f"{name}: cannot read var file: {diags.errors()[0].summary}")
    kept = [
        data[attr.range.start_pos.byte : attr.range.end_pos.byte].decode("utf-8")
        for attr_name, attr in body.attributes.items()
        if attr_name not in sensitive
    ]
    return "".join(line + "\n" for line in kept)

"""Values shown to people: HCL-like text in which sensitive values (at any depth) read ``<sensitive>``."""

from __future__ import annotations

import json
from fractions import Fraction

from imagesmith.hcl2.numbers import format_number
from imagesmith.hcl2.values import SENSITIVE, UNKNOWN, Value


def show(val: Value) -> str:
    """``val`` as text: strings quoted, collections in HCL syntax, secrets masked, unknowns named."""
    if SENSITIVE in val.marks:
        return "<sensitive>"
    v = val.v
    if v is UNKNOWN:
        return "<unknown>"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (Fraction, float)):
        return format_number(v)  # type: ignore[arg-type]
    if isinstance(v, list):
        return "[" + ", ".join(show(e) for e in v) + "]"
    return "{" + ", ".join(f"{_key(k)} = {show(e)}" for k, e in v.items()) + "}"


def _key(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name, ensure_ascii=False)

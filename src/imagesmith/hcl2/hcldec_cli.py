"""``python -m imagesmith.hcl2.hcldec_cli --spec=S [--diags=json] [--with-type] [--keep-nulls] FILE``: the
command-line contract of Go HCL's ``hcldec`` that ``hclspecsuite`` drives (value as cty JSON on stdout;
diagnostics as JSON on stderr and exit status 2 on errors)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.functions.jsonenc import encode_json
from imagesmith.hcl2.hcldec import decode_file
from imagesmith.hcl2.types import DynamicType, ListType, MapType, ObjectType, PrimitiveType, SetType, TupleType, Type
from imagesmith.hcl2.values import Value


def type_json(t: Type) -> Any:
    """A type as cty's JSON type encoding."""
    if isinstance(t, PrimitiveType):
        return t.name
    if isinstance(t, DynamicType):
        return "dynamic"
    if isinstance(t, (ListType, SetType, MapType)):
        return [t.kind, type_json(t.elem)]
    if isinstance(t, TupleType):
        return ["tuple", [type_json(e) for e in t.elems]]
    if isinstance(t, ObjectType):
        return ["object", {k: type_json(v) for k, v in t.attrs.items()}]
    raise TypeError(t)


def diags_json(diags: Diagnostics) -> str:
    out = []
    for d in diags:
        item: dict[str, Any] = {"severity": d.severity, "summary": d.summary}
        if d.detail:
            item["detail"] = d.detail
        if d.subject is not None:
            s, e = d.subject.start_pos, d.subject.end_pos
            item["subject"] = {"filename": d.subject.filename,
                               "start": {"line": s.line, "column": s.column, "byte": s.byte},
                               "end": {"line": e.line, "column": e.column, "byte": e.byte}}
        out.append(item)
    return json.dumps({"diagnostics": out})


def render(val: Value, with_type: bool) -> str:
    body = encode_json(val)
    if with_type:
        return '{"value":' + body + ',"type":' + json.dumps(type_json(val.type), separators=(",", ":")) + "}"
    return body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hcldec")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--diags", default="text", choices=("text", "json"))
    ap.add_argument("--with-type", action="store_true")
    ap.add_argument("--keep-nulls", action="store_true")
    ap.add_argument("input")
    args = ap.parse_args(argv)
    val, diags = decode_file(args.spec, args.input)
    if diags.has_errors() or val is None:
        sys.stderr.write(diags_json(diags) if args.diags == "json" else "\n\n".join(d.format() for d in diags))
        sys.stderr.write("\n")
        return 2
    sys.stdout.write(render(val, args.with_type) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

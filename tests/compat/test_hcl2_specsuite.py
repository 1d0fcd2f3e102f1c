"""HCL's implementation-agnostic specsuite (vendored from hashicorp/hcl), run through our hcldec.

Each ``*.t`` file gives the expected result value and type, or the expected diagnostics (severity
and exact source range), for the ``.hcl`` (and ``.hcl.json``) input decoded with the ``.hcldec`` spec.
This is what Go's ``hclspecsuite`` checks; the comparison rules here are the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.hcl2.convert import convert
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.hcldec import decode_file
from imagesmith.hcl2.parser import parse_config
from imagesmith.hcl2.typeexpr import get_type
from imagesmith.hcl2.types import DYNAMIC, conforms, type_string

SUITE = Path(__file__).parent.parent / "fixtures" / "hcl-specsuite" / "tests"
TESTS = sorted(SUITE.rglob("*.t"))


def _pos(body_attrs: dict[str, object]) -> tuple[int, int, int]:
    vals = {}
    for name in ("line", "column", "byte"):
        attr = body_attrs[name]
        vals[name] = int(evaluate(attr.expr, None, Diagnostics()).as_number())  # type: ignore[attr-defined]
    return vals["line"], vals["column"], vals["byte"]


def _load_test(path: Path) -> dict[str, object]:
    body, diags = parse_config(path.read_bytes(), str(path))
    assert not diags.has_errors(), [str(d) for d in diags]
    out: dict[str, object] = {}
    if "result_type" in body.attributes:
        out["result_type"] = get_type(body.attributes["result_type"].expr, Diagnostics())
    if "result" in body.attributes:
        out["result"] = evaluate(body.attributes["result"].expr, EvalContext({}, {}), Diagnostics())
    for block in body.blocks:
        if block.type == "diagnostics":
            expected = []
            for d in block.body.blocks:
                rng = {b.type: _pos(b.body.attributes) for b in d.body.blocks}  # type: ignore[arg-type]
                expected.append((d.type, rng["from"], rng["to"]))
            out["diagnostics"] = expected
        elif block.type == "traversals":
            out["traversals"] = len(block.body.blocks)
    return out


def _inputs(test: Path) -> list[Path]:
    base = test.with_suffix("")
    return [p for p in (base.with_suffix(".hcl"), Path(str(base) + ".hcl.json")) if p.exists()]


CASES = [(t, i) for t in TESTS for i in _inputs(t)]


@pytest.mark.parametrize(("test", "input_file"), CASES, ids=[str(i.relative_to(SUITE)) for _, i in CASES])
def test_specsuite(test: Path, input_file: Path) -> None:
    expected = _load_test(test)
    spec = test.with_suffix(".hcldec")
    value, diags = decode_file(spec, input_file)
    if "diagnostics" in expected:
        got = sorted(
            (d.severity, (d.subject.start_pos.line, d.subject.start_pos.column, d.subject.start_pos.byte),
             (d.subject.end_pos.line, d.subject.end_pos.column, d.subject.end_pos.byte))
            for d in diags if d.subject is not None
        )
        assert got == sorted(expected["diagnostics"]), [str(d) for d in diags]  # type: ignore[arg-type]
        return
    assert not diags.has_errors(), [str(d) for d in diags]
    assert value is not None
    want_type = expected.get("result_type", DYNAMIC)
    assert conforms(value.type, want_type), f"{type_string(value.type)} vs {type_string(want_type)}"  # type: ignore[arg-type]
    if "result" in expected:
        want = convert(expected["result"], want_type)  # type: ignore[arg-type]
        assert value.raw_equals(want), f"{value!r} != {want!r}"


def test_specsuite_is_vendored_with_licence() -> None:
    assert (SUITE.parent / "LICENSE").read_text().startswith("Copyright")
    assert len(TESTS) == 15
    assert len(CASES) == 16  # every .t has a native input; empty.t has a JSON one too


def test_hcldec_command_line_contract(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from imagesmith.hcl2.hcldec_cli import main

    case = SUITE / "structure" / "attributes" / "expected"
    rc = main([f"--spec={case}.hcldec", "--diags=json", "--with-type", "--keep-nulls", f"{case}.hcl"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"value": {"a": "a value", "b": "b value", "c": "c value"},
                   "type": ["object", {"a": "string", "b": "string", "c": "string"}]}
    bad = SUITE / "structure" / "attributes" / "singleline_bad"
    assert main([f"--spec={bad}.hcldec", "--diags=json", f"{bad}.hcl"]) == 2
    diags = json.loads(capsys.readouterr().err)["diagnostics"]
    assert diags[0]["subject"]["start"] == {"line": 1, "column": 14, "byte": 13}

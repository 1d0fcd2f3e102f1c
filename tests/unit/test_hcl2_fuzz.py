"""Random expressions over every function, operator and value kind: evaluation reports problems as
diagnostics and never raises (a traceback would be a bug)."""

from __future__ import annotations

import random
from pathlib import Path

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.parser import parse_expression
from imagesmith.hcl2.types import STRING
from imagesmith.hcl2.values import from_python, unknown_val

ATOMS = ['1/0', '-1/0', '1', '-2.5', '"s"', '""', 'true', 'null', '[]', '{}', '[1, "a"]', '{a = 1}', 'var.l',
         'var.m', 'var.u',
         'var.sec', 'var.n', '[var.u]', 'tolist(["a"])', 'toset([1])', 'tomap({a = 1})', '"${var.u}"', '0',
         '"10.0.0.0/8"', '"2020-01-01T00:00:00Z"']
OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]


def _gen(rng: random.Random, names: list[str], depth: int = 0) -> str:
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(ATOMS)
    if r < 0.75:
        args = ", ".join(_gen(rng, names, depth + 1) for _ in range(rng.randint(0, 3)))
        return f"{rng.choice(names)}({args})"
    if r < 0.85:
        return f"({_gen(rng, names, depth + 1)} {rng.choice(OPS)} {_gen(rng, names, depth + 1)})"
    if r < 0.92:
        return f"({_gen(rng, names, depth + 1)} ? {_gen(rng, names, depth + 1)} : {_gen(rng, names, depth + 1)})"
    return f"[for k, x in {_gen(rng, names, depth + 1)} : x if k != null]"


def test_random_expressions_never_raise() -> None:
    rng = random.Random(20261203)
    functions = standard_functions()
    for risky in ("file", "fileset", "filebase64", "templatefile", "fileexists"):
        functions.pop(risky)  # they would read whatever files the random paths name
    names = sorted(functions)
    variables = {"var": from_python({
        "l": ["x", "y"], "m": {"a": "b"}, "u": unknown_val(STRING), "n": None,
        "sec": from_python("p").with_marks({"sensitive"}),
    })}
    failed = 0
    for _ in range(3000):
        expr, diags = parse_expression(_gen(rng, names))
        assert not diags.has_errors()
        out = Diagnostics()
        evaluate(expr, EvalContext(dict(variables), functions), out)
        failed += out.has_errors()
    assert failed > 300  # most random calls are wrong somehow: they must have been reported, not raised


def test_mutated_packer_templates_load_without_raising(tmp_path: Path) -> None:
    from imagesmith.hcl2.packer.decode import load

    fixtures = Path(__file__).parent.parent / "fixtures" / "packer-1.6.6"
    texts = [p.read_bytes().decode("utf-8", "surrogateescape") for p in sorted(fixtures.rglob("*.pkr.hcl"))
             if p.is_file()]
    rng = random.Random(7)
    for i in range(600):
        text = texts[i % len(texts)]
        for _ in range(rng.randint(0, 3)):
            pos = rng.randrange(len(text) + 1)
            text = text[:pos] + rng.choice(['"', "{", "}", "\n", "=", "var.", "${", "[", "]", "x"]) + text[pos:]
        (tmp_path / "t.pkr.hcl").write_bytes(text.encode("utf-8", "surrogateescape"))
        load(tmp_path, [("-var", "foo=bar")], env={"PKR_VAR_x": "1"})

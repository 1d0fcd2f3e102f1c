"""Expression values against ``packer console`` of Packer 1.6.6 (Go HCL and cty as Packer ships them):
each expression is wrapped in ``jsonencode()`` and the JSON texts must be equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.parser import parse_expression
from imagesmith.hcl2.values import from_python
from tests.conftest import run_packer

LOCALS = {"l": ["b", "a", "c"], "m": {"x": 1, "y": "two"}, "objs": [{"n": "a", "v": 1}, {"n": "b", "v": 2}]}
TEMPLATE = (
    'locals {\n  l = ["b", "a", "c"]\n  m = {x = 1, y = "two"}\n  objs = [{n = "a", v = 1}, {n = "b", v = 2}]\n}\n'
)
EXPRESSIONS = [
    "1 + 2 * 3 - 4 / 8",
    "1 / 3",
    "-0.5 * 3",
    '"1" == 1',
    '[1, "a"] == [1, "a"]',
    "true && !false || false",
    '5 > 3 ? "yes" : "no"',
    '[for s in local.l : upper(s) if s != "a"]',
    "{for k, v in local.m : k => v}",
    "{for o in local.objs : o.n => o.v...}",
    "local.objs[*].n",
    "local.objs.*.v",
    "local.l[1]",
    'local.m["y"]',
    '"${local.m.x}-%{ for s in local.l }${s}%{ endfor }"',
    '"a %{~ if true ~} b %{~ endif ~} c"',
    'format("%05.1f|%-4s|%q|%x|%t", 3.14159, "ab", "q", 255, true)',
    'format("%v %v %v", 1000000, 1.5, "s")',
    'formatlist("%s=%d", ["a", "b"], [1, 2])',
    'join("-", local.l)',
    'split(",", "a,,b")',
    'replace("hello world", "/o(r)?/", "<$1>")',
    'regex_replace("a1b22", "[0-9]+", "#")',
    'substr("hello world", -5, 3)',
    'title("hello wide-world")',
    'trimspace("  x\\n")',
    'trim("!!x!!", "!")',
    'chomp("x\\n\\n")',
    'indent(2, "a\\nb")',
    'upper("ÄÖ")',
    'strrev("abc")',
    'length("héllo")',
    "length(local.m)",
    'concat([1], ["a"])',
    'merge({a = 1}, {b = "x"}, {a = 2})',
    "keys(local.m)",
    "values(local.m)",
    'lookup(local.m, "z", "dflt")',
    "element(local.l, 4)",
    'contains(local.l, "a")',
    "flatten([[1, [2]], [3]])",
    'distinct(["a", "b", "a"])',
    'coalesce("", "x")',
    "coalescelist([], [1])",
    'compact(["a", "", "b"])',
    "range(1, 10, 3)",
    "reverse([1, 2, 3])",
    "slice(local.l, 0, 2)",
    "sort(local.l)",
    "chunklist([1, 2, 3], 2)",
    'zipmap(["a", "b"], [1, 2])',
    'setunion(["a"], ["b", "a"])',
    'setintersection(["a", "b"], ["b"])',
    'setproduct(["a", "b"], [1])',
    "max(1, 7, 3)",
    "min(4, -1)",
    "abs(-3.5)",
    "ceil(1.1)",
    "floor(-1.1)",
    "signum(-9)",
    "pow(2, 10)",
    "log(100, 10)",
    'parseint("ff", 16)',
    'base64encode("hello")',
    'base64decode("aGVsbG8=")',
    'urlencode("a b&c")',
    'md5("x")',
    'sha256("x")',
    'sha512("x")',
    'jsondecode("{\\"a\\": [1, 2.5, null]}")',
    'csvdecode("a,b\\n1,2")',
    'timeadd("2020-01-01T00:00:00Z", "36h")',
    'formatdate("YYYY-MM-DD hh:mm:ss ZZZ EEE", "2020-02-03T04:05:06Z")',
    'cidrhost("10.0.0.0/16", 300)',
    'cidrnetmask("10.0.0.0/12")',
    'cidrsubnet("10.0.0.0/16", 8, 3)',
    'cidrsubnets("10.0.0.0/16", 4, 8)',
    'uuidv5("url", "http://x")',
    "can(local.nope)",
    'try(local.nope, "fallback")',
    'abspath("/a/b/../c")',
    'dirname("/a/b/c")',
    'basename("/a/b/c")',
]
# Where imagesmith follows current Packer (cty 1.13) rather than 1.6.6, checked against our own values:
# - numbers keep cty's 512-bit precision in text (1.6.6 printed 11 % 5.1 as 0.8000000000000000002);
# - index() is Packer's own function since 1.7 (1.6.6's cty index failed on this call);
# - tostring() and the other to* conversions are cty functions Packer does not list (extensions here).
DIFFERENCES = {
    "11 % 5.1": "0.8" + "0" * 152 + "24",
    'index(local.l, "c")': "2",
    "tostring(1)": '"1"',
}


def ours(expr: str) -> str:
    parsed, diags = parse_expression(f"jsonencode({expr})")
    out = Diagnostics(diags)
    val = evaluate(parsed, EvalContext({"local": from_python(LOCALS)}, standard_functions()), out)
    assert not out.has_errors(), [str(d) for d in out]
    return val.as_str()


ERRORS = [
    "local.nope",
    "local.m.z",
    "local.l[5]",
    'local.l["x"]',
    '1 + "a"',
    "true ? 1 : [1]",
    "upper(1, 2)",
    "upper()",
    "nosuch(1)",
    "[for x in 1 : x]",
    "null ? 1 : 2",
    "element([], 0)",
    "local.m[null]",
    '{for s in local.l : "k" => s}',
    'max("a"...)',
    'jsondecode("{")',
    "local.l.name",
    "0/0",
    "jsonencode(1/0)",
    "1/0 - 1/0",
]
INFINITIES = ["1/0", "-1/0", "floor(1/0)", "abs(-1/0)", "1/0 > 5", "1/0 == 1/0"]  # cty numbers can be ±Inf


@pytest.fixture(scope="module")
def console_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("console")
    (path / "t.pkr.hcl").write_text(TEMPLATE)
    return path


@pytest.mark.compat
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_values_match_packer_console(expr: str, console_dir: Path, need_packer: None) -> None:
    proc = run_packer("console", "t.pkr.hcl", stdin=f"jsonencode({expr})\n", cwd=console_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ours(expr) == proc.stdout.strip()


@pytest.mark.compat
@pytest.mark.parametrize("expr", ERRORS)
def test_error_summaries_match_packer_console(expr: str, console_dir: Path, need_packer: None) -> None:
    proc = run_packer("console", "t.pkr.hcl", stdin=f"{expr}\n", cwd=console_dir)
    theirs = [line[7:] for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("Error: ")]
    parsed, diags = parse_expression(expr, "<console-input>")
    evaluate(parsed, EvalContext({"local": from_python(LOCALS)}, standard_functions()), diags)
    assert [d.summary for d in diags.errors()] == theirs


@pytest.mark.compat
@pytest.mark.parametrize("expr", INFINITIES)
def test_infinities_match_packer_console(expr: str, console_dir: Path, need_packer: None) -> None:
    from imagesmith.hcl2.display import show

    proc = run_packer("console", "t.pkr.hcl", stdin=f"{expr}\n", cwd=console_dir)
    parsed, diags = parse_expression(expr)
    val = evaluate(parsed, EvalContext({}, standard_functions()), diags)
    assert not diags.has_errors()
    assert show(val) == proc.stdout.strip()


@pytest.mark.parametrize(("expr", "want"), sorted(DIFFERENCES.items()))
def test_documented_differences(expr: str, want: str) -> None:
    assert ours(expr) == want

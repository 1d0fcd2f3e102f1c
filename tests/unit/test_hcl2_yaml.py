"""``yamldecode``/``yamlencode``: go-cty-yaml's answers (recorded from Packer 1.6.6's console; the live
comparison is tests/compat/test_hcl2_yaml_vs_packer.py), round trips, and the documented differences."""

from __future__ import annotations

import pytest

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.parser import parse_expression


def _eval(expr: str) -> str:
    parsed, diags = parse_expression(expr)
    out = Diagnostics(diags)
    val = evaluate(parsed, EvalContext({}, standard_functions()), out)
    if out.has_errors():
        return "error: " + out.errors()[0].detail
    return val.as_str()


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('yamlencode({a=1,b=["x","y"],c={d=true,e=null}})',
         '"a": 1\n"b":\n- "x"\n- "y"\n"c":\n  "d": true\n  "e": null\n'),
        ('yamlencode("hello")', '"hello"\n'),
        ("yamlencode(1.5)", "1.5\n...\n"),
        ("yamlencode([[1,2],[3]])", "- - 1\n  - 2\n- - 3\n"),
        ("yamlencode([{a=1,b=2},[],{}])", '- "a": 1\n  "b": 2\n- []\n- {}\n'),
        ('yamlencode("a\\nb\\n\\n")', "|+\n  a\n  b\n\n"),
        ('yamlencode(" lead\\nx")', "|2-\n   lead\n  x\n"),
        ('yamlencode("trail \\nx")', '"trail \\nx"\n'),
        ('yamlencode({k="a\\nb"})', '"k": |-\n  a\n  b\n'),
        ('yamlencode("\\u0001 😀")', '"\\x01 \\U0001F600"\n'),
        ("yamlencode(1/3)", "0." + "3" * 154 + "5\n...\n"),
        (
            'yamlencode(join(" ", [for i in range(21) : "long"]))',
            '"' + " ".join(["long"] * 17) + '\n  ' + " ".join(["long"] * 4) + '"\n',
        ),
        ('jsonencode(yamldecode("a: 1\\nb: [x, y]\\nc: on\\nd: ~\\ne: 0o17\\nf: 0x1F\\nw: 012\\nz: 1__0"))',
         '{"a":1,"b":["x",true],"c":true,"d":null,"e":"0o17","f":"0x1F","w":12,"z":10}'),
        ('jsonencode(yamldecode("- !!int \'12\'\\n- !!float 3\\n- 2001-12-14t21:59:43.10-05:00\\n- 2001-1-2"))',
         '["12",3,"2001-12-14T21:59:43-05:00","2001-01-02T00:00:00Z"]'),
        ('jsonencode(yamldecode("{a: 1, 1: b, true: c, 1.5: e}"))', '{"1":"b","1.5":"e","a":1,"true":"c"}'),
        ('jsonencode(yamldecode("a: &x {b: 1}\\nc: *x\\nd:\\n  <<: *x\\n  e: 2"))',
         '{"a":{"b":1},"c":{"b":1},"d":{"b":1,"e":2}}'),
        ('yamldecode("")',
         'error: Call to function "yamldecode" failed: on line 1, column 1: missing start of document.'),
        ('yamldecode(".nan")', 'error: Call to function "yamldecode" failed: floating point NaN is not supported.'),
        ('yamldecode("a: !x 1")', 'error: Call to function "yamldecode" failed: unsupported tag "!x".'),
        ('yamldecode("--- 1\\n--- 2")',
         'error: Call to function "yamldecode" failed: on line 1, column 1: unexpected extra content after value.'),
    ],
)  # fmt: skip
def test_go_cty_yaml_answers(expr: str, want: str) -> None:
    assert _eval(expr) == want


@pytest.mark.parametrize(
    "value",
    ['{a = [1, "two", true, null, {b = "x\\ny"}], "c d" = {}, e = []}', '["é", "\\t", 0.25, -7, "  x\\n"]'],
)
def test_round_trip(value: str) -> None:
    assert _eval(f"jsonencode(yamldecode(yamlencode({value})))") == _eval(f"jsonencode({value})")


def test_documented_differences() -> None:
    # cty keeps a negative zero (-0); imagesmith's numbers are exact fractions and have none
    assert _eval('jsonencode(yamldecode("- -0"))') == "[0]"
    # go-yaml writes a key with a line break as a "? |-" complex key; imagesmith double-quotes it
    assert _eval('yamlencode({"a\\nb" = 1})') == '"a\\nb": 1\n'
    # go-cty-yaml merges only a mapping with "<<"; a list of mappings is refused as in go-cty-yaml,
    # but without go-yaml's position
    assert _eval('yamldecode("<<: [{a: 1}]")') == (
        'error: Call to function "yamldecode" failed: cannot merge tuple into mapping.'
    )

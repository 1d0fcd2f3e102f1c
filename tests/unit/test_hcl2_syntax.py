"""HCL native syntax: structure, expressions, templates, positions; and HCL JSON."""

from __future__ import annotations

import pytest

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import AttributeSchema, BlockSchema, BodySchema, NativeBody
from imagesmith.hcl2.diagnostics import Diagnostics, HCLError, raise_if_errors
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.json_body import parse_json_config
from imagesmith.hcl2.parser import parse_config, parse_expression, parse_template
from imagesmith.hcl2.values import Value, from_python, to_python

VARS = {
    "var": from_python({
        "list": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "map": {"x": "1", "y": "2"},
        "s": "str",
        "tags": {"env": "prod", "team": "ops"},
    })
}


def value(src: str) -> object:
    expr, diags = parse_expression(src)
    raise_if_errors(diags)
    out = Diagnostics()
    val = evaluate(expr, EvalContext(dict(VARS), standard_functions()), out)
    raise_if_errors(out)
    return to_python(val)


def config_value(src: str, name: str = "a") -> object:
    body, diags = parse_config(src, "t.hcl")
    raise_if_errors(diags)
    out = Diagnostics()
    val = evaluate(body.attributes[name].expr, EvalContext(dict(VARS), standard_functions()), out)
    raise_if_errors(out)
    return to_python(val)


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("1 + 2 * 3 - 4 / 2 % 3", 5),
        ("!true || false && true", False),
        ("1 < 2 == 3 > 2", True),
        ("- -1", 1),
        ("!!true", True),
        ('"1" == 1', False),
        ("[1, 2] == [1, 2]", True),
        ('{a = 1} != {a = "1"}', True),
        ("var.list[0].name", "a"),
        ("var.list.1.id", 2),
        ("var.list[*].name", ["a", "b"]),
        ("var.list.*.id", [1, 2]),
        ("var.map.x", "1"),
        ('var.map["y"]', "2"),
        ("[for i, v in var.list : v.name if i > 0]", ["b"]),
        ("{for k, v in var.map : v => k}", {"1": "x", "2": "y"}),
        ('{for v in ["a", "b", "a"] : v => v...}', {"a": ["a", "a"], "b": ["b"]}),
        ('true ? "yes" : "no"', "yes"),
        ("false ? 1 : null", None),
        ("max([1, 7, 3]...)", 7),
        ('{ "q" = 1, bare = 2, (var.s) = 3 }', {"q": 1, "bare": 2, "str": 3}),
        ('"${var.s}-%{ if true }t%{ else }f%{ endif }"', "str-t"),
        ('"%{ for k, v in var.tags }${k}=${v};%{ endfor }"', "env=prod;team=ops;"),
        ('"a %{~ if true ~} b %{~ endif ~} c"', "abc"),
        ('"x ${~ "y" ~} z"', "xyz"),
        ('"$${literal} %%{literal}"', "${literal} %{literal}"),
        ('"\\u00e9\\t\\"\\\\"', 'é\t"\\'),
        ("3.14159265358979323846264338327950288419716939937510582097494459 + 1",
         "4.14159265358979323846264338327950288419716939937510582097494459"),
        ("(1 + 2) * 3", 9),
        ("null", None),
        ("var.missing_but_safe == null ? 1 : 2", None),
    ],
)
def test_expressions(src: str, want: object) -> None:
    if "missing_but_safe" in src:
        with pytest.raises(HCLError, match="Unsupported attribute"):
            value(src)
        return
    assert value(src) == want


def test_heredocs() -> None:
    src = "a = <<EOT\n  hello ${var.s}\n  bye\nEOT\nb = <<-EOT\n    one\n      two\n    EOT\n"
    assert config_value(src, "a") == "  hello str\n  bye\n"
    assert config_value(src, "b") == "one\n  two\n"


def test_heredoc_with_for_directive_and_strip_markers() -> None:
    src = "a = <<EOT\n%{ for k, v in var.tags ~}\n${k}=${v}\n%{ endfor ~}\nEOT\n"
    assert config_value(src) == "env=prod\nteam=ops\n"


def test_positions_of_nodes() -> None:
    body, diags = parse_config('x = 1\nblk "l1" lab2 {\n  é = "ü${var.s}"\n}\n', "f.hcl")
    assert not diags
    blk = body.blocks[0]
    assert (blk.type, blk.labels) == ("blk", ["l1", "lab2"])
    assert (blk.type_range.line, blk.type_range.column, blk.type_range.byte) == (2, 1, 6)
    attr = blk.body.attributes["é"]
    assert (attr.name_range.line, attr.name_range.column, attr.name_range.byte) == (3, 3, 24)
    tmpl = attr.expr
    assert isinstance(tmpl, ast.Template)
    interp = tmpl.parts[1]
    assert isinstance(interp, ast.ScopeTraversal)
    assert (interp.range.line, interp.range.column) == (3, 11)
    assert interp.range.byte == 34  # "é" and "ü" take two bytes each


def test_one_line_blocks_and_comments() -> None:
    src = "# hash\n// slash\n/* multi\nline */\na { b = 1 }\nc {}\n"
    body, diags = parse_config(src, "f.hcl")
    assert not diags
    assert [b.type for b in body.blocks] == ["a", "c"]


@pytest.mark.parametrize(
    ("src", "summary"),
    [
        ("a = 1\na = 2\n", "Attribute redefined"),
        ("a = 1 b = 2\n", "Missing newline after argument"),
        ('a = "x\ny"\n', "Invalid multi-line string"),
        ("blk {\n", "Unclosed configuration block"),
        ("a = [for x in y : x => x]\n", "Invalid 'for' expression"),
        ('a = "%{ if x }"\n', "Unexpected end of template"),
        ("a = b.0.1\n", "Invalid legacy index syntax"),
        ("a = f(x...,)\n", "Missing closing parenthesis"),
        ('a = "\\q"\n', "Invalid escape sequence"),
        ("a = 1 & 2\n", "Unsupported operator"),
    ],
)
def test_syntax_errors(src: str, summary: str) -> None:
    _, diags = parse_config(src, "f.hcl")
    assert summary in [d.summary for d in diags.errors()]


def test_error_message_has_location_and_excerpt() -> None:
    _, diags = parse_config("a = 1\nb = = 2\n", "f.pkr.hcl")
    with pytest.raises(HCLError) as exc:
        raise_if_errors(diags)
    text = str(exc.value)
    assert "Error: Invalid expression" in text
    assert "on f.pkr.hcl:2:5:" in text
    assert "     2: b = = 2" in text
    assert "^" in text


def test_evaluation_errors_are_located() -> None:
    expr, _ = parse_expression('upper(1, 2) + var.nope + "x"', "e.hcl")
    diags = Diagnostics()
    evaluate(expr, EvalContext(dict(VARS), standard_functions()), diags)
    summaries = [(d.summary, d.subject.column if d.subject else 0) for d in diags]
    assert ("Too many function arguments", 10) in summaries
    assert ("Unknown variable", 15) in summaries or ("Unsupported attribute", 18) in summaries


def test_unknowns_propagate() -> None:
    from imagesmith.hcl2.types import STRING
    from imagesmith.hcl2.values import unknown_val

    expr, _ = parse_expression('"${build.ID}-x" == "a" ? upper(build.ID) : "b"')
    diags = Diagnostics()
    ctx = EvalContext({"build": from_python({"ID": unknown_val(STRING)})}, standard_functions())
    val = evaluate(expr, ctx, diags)
    assert not diags and not val.is_known and val.type == STRING


def test_template_parsing() -> None:
    expr, diags = parse_template("Hello ${name}!%{ if loud }!!%{ endif }")
    assert not diags
    out = Diagnostics()
    val = evaluate(expr, EvalContext({"name": from_python("you"), "loud": from_python(True)}, {}), out)
    assert to_python(val) == "Hello you!!!"


def test_json_syntax_body_and_expressions() -> None:
    src = '{"a": "${1 + 1}", "//": "comment", "blk": {"l1": {"x": [1, true, null]}}, "obj": {"k": "v"}}'
    body, diags = parse_json_config(src, "f.hcl.json")
    assert body is not None and not diags
    schema = BodySchema([AttributeSchema("a"), AttributeSchema("obj")], [BlockSchema("blk", ("name",))])
    content, cdiags = body.content(schema)
    assert not cdiags
    ctx = EvalContext({}, standard_functions())
    assert to_python(evaluate(content.attributes["a"].expr, ctx, Diagnostics())) == 2  # a lone ${} keeps its type
    assert to_python(evaluate(content.attributes["obj"].expr, ctx, Diagnostics())) == {"k": "v"}
    blk = content.blocks[0]
    assert blk.labels == ["l1"]
    attrs, _ = blk.body.just_attributes()
    assert to_python(evaluate(attrs["x"].expr, ctx, Diagnostics())) == [1, True, None]


def test_json_syntax_errors() -> None:
    _, diags = parse_json_config('{"a": 1,}', "f.json")
    assert diags.has_errors()
    body, diags = parse_json_config('{"a": 1, "a": 2}', "f.json")
    assert body is not None
    _, cdiags = body.content(BodySchema([AttributeSchema("a")]))
    assert "Duplicate argument" in [d.summary for d in cdiags]


def test_native_body_schema_errors() -> None:
    body, _ = parse_config('a = 1\nb = 2\nblk "x" {}\n', "f.hcl")
    _, diags = NativeBody(body).content(BodySchema([AttributeSchema("a"), AttributeSchema("c", required=True)],
                                                   [BlockSchema("blk")]))
    assert [d.summary for d in diags] == ["Missing required argument", "Unsupported argument",
                                          "Extraneous label for blk"]


def test_values_from_and_to_python_roundtrip() -> None:
    data = {"a": [1, "x", True, None], "b": {"c": 2}}
    assert to_python(from_python(data)) == data
    assert isinstance(from_python(1), Value)

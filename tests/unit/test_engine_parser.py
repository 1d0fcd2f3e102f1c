"""Lexer and parser: token streams, tree shapes, Go's node strings, and where errors point."""

from __future__ import annotations

import pytest

from imagesmith.errors import RenderError
from imagesmith.template.context import RenderContext
from imagesmith.template.engine import nodes as n
from imagesmith.template.engine import parse, render_once
from imagesmith.template.engine.lexer import Tok, lex
from imagesmith.template.engine.literals import LiteralError, parse_number, unquote


def kinds(text: str) -> list[tuple[Tok, str]]:
    return [(t.kind, t.val) for t in lex(text)]


def test_lexer_tokens_and_trim_markers() -> None:
    assert kinds("a {{- .X | upper -}} b") == [
        (Tok.TEXT, "a"),
        (Tok.LEFT_DELIM, "{{"),
        (Tok.FIELD, ".X"),
        (Tok.SPACE, " "),
        (Tok.PIPE, "|"),
        (Tok.SPACE, " "),
        (Tok.IDENTIFIER, "upper"),
        (Tok.RIGHT_DELIM, "}}"),
        (Tok.TEXT, "b"),
        (Tok.EOF, ""),
    ]
    # "{{-3}}" is the number -3, not a trim marker (the marker needs a space).
    assert (Tok.NUMBER, "-3") in kinds("{{-3}}")
    assert kinds("{{/* c */}}") == [(Tok.EOF, "")]
    assert kinds('{{ $x := "a\\"b" }}')[2:6] == [
        (Tok.VARIABLE, "$x"),
        (Tok.SPACE, " "),
        (Tok.DECLARE, ":="),
        (Tok.SPACE, " "),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("if", Tok.KEYWORD),
        ("true", Tok.BOOL),
        ("nil", Tok.NIL),
        ("x_1", Tok.IDENTIFIER),
        (".", Tok.DOT),
        ("$", Tok.VARIABLE),
    ],
)
def test_word_kinds(text: str, kind: Tok) -> None:
    assert lex("{{" + text + "}}")[1].kind is kind


def test_lexer_stops_at_the_first_error() -> None:
    tokens = lex("{{ 1 }} {{ € }} {{ 2 }}")
    assert tokens[-1].kind is Tok.ERROR
    assert tokens[-1].val == "unrecognized character in action: U+20AC '€'"
    assert lex("{{ @ }}")[2].kind is Tok.CHAR  # printable ASCII is a "char" token; the parser rejects it


def test_tree_shape_and_node_strings() -> None:
    tmpl = parse('{{ if .A }}x{{ else if eq .B "b" }}y{{ else }}z{{ end }}{{ (print 1).X | printf "%s" }}')
    first, second = tmpl.root.nodes
    assert isinstance(first, n.BranchNode) and first.keyword == "if"
    assert isinstance(first.else_body, n.ListNode)
    nested = first.else_body.nodes[0]
    assert isinstance(nested, n.BranchNode) and str(nested.pipe) == 'eq .B "b"'
    assert str(first) == '{{if .A}}x{{else}}{{if eq .B "b"}}y{{else}}z{{end}}{{end}}'
    assert isinstance(second, n.ActionNode)
    assert str(second.pipe) == '(print 1).X | printf "%s"'


def test_variables_are_scoped_to_their_block() -> None:
    parse("{{ $x := 1 }}{{ if true }}{{ $x }}{{ end }}")
    with pytest.raises(RenderError, match='undefined variable "\\$y"'):
        parse("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}")
    parse("{{ range $i, $v := . }}{{ $i }}{{ $v }}{{ end }}")
    with pytest.raises(RenderError, match="too many declarations in command"):
        parse("{{ $a, $b := 1 }}")


def test_function_names_checked_at_parse_time_even_in_dead_branches() -> None:
    with pytest.raises(RenderError, match='function "nope" not defined'):
        parse("{{ if false }}{{ nope }}{{ end }}")
    parse("{{ if false }}{{ nope }}{{ end }}", extra_funcs=["nope"])


def test_error_columns_count_bytes_and_lines() -> None:
    with pytest.raises(RenderError) as info:
        render_once("line one\né {{ upper 3 }}", RenderContext())
    assert str(info.value).startswith('template: root:2:12: executing "root" at <3>')
    with pytest.raises(RenderError) as info:
        parse("a\nb {{ foo }}")
    assert str(info.value) == 'template: root:2:5: function "foo" not defined'


@pytest.mark.parametrize(
    ("quoted", "value"),
    [('"a\\tb"', "a\tb"), ('"\\x41\\101\\u00e9\\U0001F600"', "AAé😀"), ("`a\\nb`", "a\\nb"), ('"\\\\"', "\\")],
)
def test_unquote(quoted: str, value: str) -> None:
    assert unquote(quoted) == value


@pytest.mark.parametrize("quoted", ['"\\q"', '"\\400"', '"\\x4"', '"\\\'"', '"\\uD800"'])
def test_unquote_rejects_bad_escapes(quoted: str) -> None:
    with pytest.raises(LiteralError, match="invalid syntax"):
        unquote(quoted)


@pytest.mark.parametrize(
    ("text", "as_int", "is_float"),
    [("42", 42, False), ("0x1F", 31, False), ("017", 15, False), ("1_000", 1000, False), ("1e3", 1000, True),
     ("2.5", None, True), ("0x1p-2", None, True)],
)  # fmt: skip
def test_numbers(text: str, as_int: int | None, is_float: bool) -> None:
    num = parse_number(text)
    assert num.as_int == as_int
    assert num.is_float_syntax == is_float


def test_numbers_rejected_like_go() -> None:
    for text in ("1.0e400", "0x1F.A", "9223372036854775808000"):
        with pytest.raises(LiteralError):
            parse_number(text)
    assert parse_number("1i").as_complex == 1j
    assert parse_number("'\\n'", "char").as_int == 10


def test_parse_results_are_cached_and_fast() -> None:
    texts = [f"echo {{{{user `x`}}}} {i} {{{{build_name}}}} {{{{ .Path }}}} | {{{{ .Vars }}}}" for i in range(2000)]
    ctx = RenderContext(user_vars={"x": "y"}, build_name="b", data={"Path": "/p", "Vars": "A=1"})
    first = [render_once(text, ctx) for text in texts]
    # The same text parses once: the cache hands back the same tree (speed is measured in bench/, not here).
    assert all(parse(text) is parse(text) for text in texts[:50])
    assert [render_once(text, ctx) for text in texts] == first

"""Property tests: whatever text reaches the engine, the outcome is a string or a located RenderError.

Three generators: raw characters that matter to the lexer, token soups built from the template
vocabulary (so parsing and execution get deep), and mutations of valid Packer expressions.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagesmith.errors import RenderError
from imagesmith.template.context import RenderContext
from imagesmith.template.engine import parse, render, render_once

DATA = {
    "HTTPIP": "10.0.2.2",
    "HTTPPort": 8080,
    "List": ["a", "b", 3, None],
    "Map": {"k": "v", "n": 1, "nested": {"x": [1, 2]}},
    "Nil": None,
    "Flag": True,
    "Float": 2.5,
}

CONTEXTS = [
    RenderContext(user_vars={"x": "y", "csv": "a,b"}, data=DATA, build_name="b", build_type="docker"),
    RenderContext(user_vars={}, in_variables=True, enable_env=True),
    RenderContext(user_vars=None, build_passthrough=True),
]

# Every RenderError names a place: "template: root:LINE[:COL]: ..." or "template: root: ...".
LOCATED = re.compile(r"^template: (root|[^:]+)(:\d+(:\d+)?)?: ")

VOCABULARY = [
    "{{", "}}", "{{- ", " -}}", "{{/*", "*/}}", " ", " ", " ", "\n", "(", ")", "|", ":=", "=", ",", "$", "$x", "$y",
    ".", ".HTTPIP", ".Map", ".k", ".List", ".Nil", ".Missing", ".A.B", "if", "else", "end", "range", "with",
    "define", "template", "block", "break", "continue", "true", "false", "nil", "0", "1", "-1", "2.5", "1e9", "0x1F",
    "'a'", "1i", '"s"', '"%d"', '"%s %v %q %x %*d %.*f %9d"', '"-"', '"a-b-c"', "`raw`", '"\\n"', '"{{ 1 }}"',
    "print", "printf", "println", "len", "index", "slice", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge",
    "html", "js", "urlquery", "call", "split", "replace", "replace_all", "upper", "lower", "user", "build", "isotime",
    "strftime", "timestamp", "uuid", "pwd", "template_dir", "build_name", "build_type", "packer_version", "env",
    "sed", "consul_key", "vault", "aws_secretsmanager", "undefined_fn", "x", "é", "\\", '"', "`", "'", "#",
]  # fmt: skip

VALID = [
    '{{ split "a-b-c" "-" 1 }}',
    '{{ replace "-" "/" 1 "a-b-c" }}',
    "{{ user `x` | upper }}",
    '{{ isotime "2006-01-02" }}',
    '{{ strftime "%Y-%m" }}',
    "http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg",
    "{{ range $i, $v := .List }}{{ $i }}={{ $v }};{{ end }}",
    "{{ if eq (len .List) 4 }}four{{ else }}other{{ end }}",
    '{{ with .Map }}{{ .k }}{{ index .nested "x" }}{{ end }}',
    '{{ printf "%05.1f|%-4s|%x" .Float "ab" 255 }}',
    "{{- /* comment */ -}} {{ build `ID` }}",
    '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .HTTPIP }}',
]


def check(text: str) -> None:
    for ctx in CONTEXTS:
        for fn in (render_once, render):
            try:
                result = fn(text, ctx)
            except RenderError as exc:
                assert LOCATED.match(str(exc)), str(exc)
            else:
                assert isinstance(result, str)


fuzz = settings(
    max_examples=int(__import__("os").environ.get("ENGINE_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@fuzz
@given(st.text(alphabet=st.sampled_from(list("{}-/* \n\t()|$.\"`'\\:=,x1é%#")), max_size=60))
def test_random_characters(text: str) -> None:
    check(text)


@fuzz
@given(st.lists(st.sampled_from(VOCABULARY), max_size=30).map("".join))
@example("{{ (((((((((((( 1 )))))))))))) }}")
@example('{{define "a"}}{{template "a"}}{{end}}{{template "a"}}')
@example("{{ range .List }}{{ break }}{{ continue }}{{ end }}")
@example('{{ printf "%*d|%.*f" "x" 1 -1 2.0 }}')
def test_token_soup(text: str) -> None:
    check(text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 6)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        if action == "delete":
            text = text[:i] + text[j:]
        elif action == "insert":
            text = text[:i] + draw(st.sampled_from(VOCABULARY)) + text[i:]
        elif action == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif j - i >= 2:
            text = text[:i] + text[j - 1] + text[i + 1 : j - 1] + text[i] + text[j:]
    return text


@fuzz
@given(mutated())
def test_mutated_valid_expressions(text: str) -> None:
    check(text)


@fuzz
@given(st.text(max_size=40))
def test_parse_only_any_unicode(text: str) -> None:
    try:
        parse("{{" + text + "}}")
    except RenderError as exc:
        assert LOCATED.match(str(exc)), str(exc)


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["A", "B", "k", "List"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@fuzz
@given(st.lists(st.sampled_from(VOCABULARY), max_size=20).map("".join), _DATA)
@example("{{ range $k, $v := . }}{{ $k }}{{ $v.A }}{{ end }}", {"A": {"A": None}})
@example("{{ index . 0 1 }}{{ len .A }}{{ slice .A 1 }}", [[1, 2]])
@example('{{ printf "%v %d %s" . .A .B }}', {"A": [1.5, None], "B": {"k": True}})
def test_token_soup_with_random_data(text: str, data: object) -> None:
    for ctx in (RenderContext(data=data), RenderContext(data=data, user_vars={"x": "y"}, build_name="b")):
        try:
            result = render_once(text, ctx)
        except RenderError as exc:
            assert LOCATED.match(str(exc)), str(exc)
        else:
            assert isinstance(result, str)

"""The Go text/template executor: output and errors as Go 1.19 (Packer 1.6.6's build) gives them.

Expected values were taken from ``packer console`` (Packer v1.6.6, go1.19.8).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from imagesmith.errors import RenderError
from imagesmith.template.context import RenderContext
from imagesmith.template.engine import render, render_once

CTX = RenderContext(user_vars={"x": "y"})


def out(text: str, **kw: object) -> str:
    return render_once(text, RenderContext(**kw) if kw else CTX)  # type: ignore[arg-type]


def err(text: str, **kw: object) -> str:
    with pytest.raises(RenderError) as info:
        out(text, **kw)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("{{ 1 }}", "1"),
        ("{{ true }}", "true"),
        ("{{ 1.5 }}", "1.5"),
        ("{{ 1e3 }}", "1000"),
        ("{{ 1e6 }}", "1e+06"),
        ("{{ 100000.0 }}", "100000"),
        ("{{ 1.0 }}", "1"),
        ("{{ 0.00001 }}", "1e-05"),
        ("{{ 1e21 }}", "1e+21"),
        ("{{ 123456789.0 }}", "1.23456789e+08"),
        ("{{ 0x10 }}", "16"),
        ("{{ 017 }}", "15"),
        ("{{ 0b101 }}", "5"),
        ("{{ 0x1_0 }}", "16"),
        ("{{ 'a' }}", "97"),
        ("{{ -3 }}", "-3"),
        ("{{ . }}", "<no value>"),
        ("{{ .Missing }}", "<no value>"),
        ("{{ .A.B }}", "<no value>"),
        ("{{ print nil }}", "<nil>"),
        ('{{ printf "%v" nil }}', "<nil>"),
        ('{{ "\\x41\\u00e9\\t\\101" }}', "Aé\tA"),
        ("{{ `raw\\n` }}", "raw\\n"),
        ("{{/* comment */}}x", "x"),
        ('a  {{- " t " -}}  b', "a t b"),
        ("a {{- /* c */ -}} b", "ab"),
        ("{{ if true }}yes{{ else }}no{{ end }}", "yes"),
        ('{{ if "" }}yes{{ else if 0 }}zero{{ else }}no{{ end }}', "no"),
        ('{{ with "" }}a{{ else }}b{{ end }}', "b"),
        ('{{ with "v" }}{{ . }}{{ end }}', "v"),
        ('{{ (print "a" "b") | upper }}', "AB"),
        ('{{ print (upper "a") "b" }}', "Ab"),
        ('{{ "Hello World" | lower }}', "hello world"),
        ('{{ "a-b-c" | replace_all "-" "/" }}', "a/b/c"),
        ('{{ $x := "v" }}{{ $x }}', "v"),
        ('{{ $x := "v" }}{{ $x = "w" }}{{ $x }}', "w"),
        ("{{ $ }}", "<no value>"),
        ('{{ print 1 2 "a" "b" 3 }}', "1 2ab3"),
        ('{{ println "a" 1 }}', "a 1\n"),
        ("{{ print 1.5 true }}", "1.5 true"),
        ("{{ and 1 0 }}", "0"),
        ('{{ or 0 "" "x" }}', "x"),
        ('{{ not "" }}', "true"),
        ("{{ eq 1 1 }}", "true"),
        ('{{ eq "a" "b" "a" }}', "true"),
        ("{{ ne 1 2 }}", "true"),
        ("{{ lt 1 2 }}", "true"),
        ('{{ ge "b" "a" }}', "true"),
        ('{{ len "abc" }}', "3"),
        ('{{ len "é" }}', "2"),
        ('{{ index "abc" 1 }}', "98"),
        ('{{ slice "abcd" 1 3 }}', "bc"),
        ('{{ html "<a&\'\\">" }}', "&lt;a&amp;&#39;&#34;&gt;"),
        ('{{ js "a\'b\\"c<>\\n" }}', "a\\'b\\\"c\\u003C\\u003E\\u000A"),
        ('{{ urlquery "a b&c=d/é" }}', "a+b%26c%3Dd%2F%C3%A9"),
        ('{{ printf "%5.2f|%-4s|%03d|%t|%T" 3.14159 "ab" 7 true "x" }}', " 3.14|ab  |007|true|string"),
        ('{{ printf "%v %q %d %x" "a" "b" 3 "hi" }}', 'a "b" 3 6869'),
        ('{{ printf "%d" }}', "%!d(MISSING)"),
        ('{{ printf "%s" 1 }}', "%!s(int=1)"),
        ('{{ printf "%z" 1 }}', "%!z(int=1)"),
        ('{{ printf "%s" "a" "b" }}', "a%!(EXTRA string=b)"),
        ('{{ printf "%x %X %o %b %#x" 255 255 8 5 255 }}', "ff FF 10 101 0xff"),
        ('{{ printf "%e %g %.3g" 1234.5678 0.000012 3.14159 }}', "1.234568e+03 1.2e-05 3.14"),
        ('{{ printf "%c %U %q" 65 65 65 }}', "A U+0041 'A'"),
        ('{{ printf "%6.2s|%-6d|%+d" "abc" 5 5 }}', "    ab|5     |+5"),
    ],
)
def test_output_matches_go(text: str, expected: str) -> None:
    assert out(text) == expected


@dataclass
class Boot:
    HTTPIP: str
    HTTPPort: int

    def Upper(self, s: str) -> str:  # Go method names are capitalized
        return s.upper()


def test_data_fields_dicts_objects_and_ranges() -> None:
    data = {"L": ["a", "b"], "M": {"k2": 2, "k1": 1}, "N": None, "S": "str", "Obj": Boot("10.0.2.2", 8080)}
    ctx = RenderContext(data=data)
    assert render_once("{{ range $i, $v := .L }}{{ $i }}={{ $v }};{{ end }}", ctx) == "0=a;1=b;"
    assert render_once("{{ range .M }}{{ . }}{{ end }}", ctx) == "12"
    assert render_once("{{ range $k, $v := .M }}{{ $k }}{{ end }}", ctx) == "k1k2"
    assert render_once("{{ range .Missing }}x{{ else }}empty{{ end }}", ctx) == "empty"
    assert render_once('{{ range .L }}{{ if eq . "a" }}{{ continue }}{{ end }}{{ . }}{{ end }}', ctx) == "b"
    assert render_once("{{ range .L }}{{ . }}{{ break }}{{ end }}", ctx) == "a"
    assert render_once("{{ .M }}", ctx) == "map[k1:1 k2:2]"
    assert render_once("{{ .L }}", ctx) == "[a b]"
    assert render_once("{{ .N }}", ctx) == "<nil>"
    assert render_once("http://{{ .Obj.HTTPIP }}:{{ .Obj.HTTPPort }}/", ctx) == "http://10.0.2.2:8080/"
    assert render_once('{{ .Obj.Upper "x" }}', ctx) == "X"
    assert render_once('{{ index .M "k1" }} {{ index .M "zz" }} {{ index .L 1 }}', ctx) == "1 <nil> b"
    assert render_once("{{ with .Obj }}{{ .HTTPIP }}{{ end }}", ctx) == "10.0.2.2"
    assert render_once("{{ len .L }} {{ $.S }}", ctx) == "2 str"
    assert render_once('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .S }}', ctx) == "[str]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ foo }}", 'template: root:1:3: function "foo" not defined'),
        ("{{ if }}", "template: root:1:6: missing value for if"),
        ("{{ nil }}", 'template: root:1:3: executing "root" at <nil>: nil is not a command'),
        ("{{ upper 3 }}", 'template: root:1:9: executing "root" at <3>: expected string; found 3'),
        (
            "{{ 3 | upper }}",
            'template: root:1:7: executing "root" at <upper>: wrong type for value; expected string; got int',
        ),
        ('{{ split "a-b" "-" "1" }}', 'template: root:1:19: executing "root" at <"1">: expected integer; found "1"'),
        (
            '{{ eq 1 "a" }}',
            'template: root:1:3: executing "root" at <eq 1 "a">: error calling eq: incompatible types for comparison',
        ),
        (
            "{{ lt 1 2.0 }}",
            'template: root:1:3: executing "root" at <lt 1 2.0>: error calling lt: incompatible types for comparison',
        ),
        (
            '{{ index .Nope "a" }}',
            'template: root:1:3: executing "root" at <index .Nope "a">: error calling index: index of untyped nil',
        ),
        (
            '{{ range $i, $v := split "a,b" "," 0 }}{{ $i }}{{ end }}',
            'template: root:1:35: executing "root" at <0>: range can\'t iterate over a',
        ),
        ('{{ sed "a" }}', 'template: root:1:3: executing "root" at <sed>: wrong number of args for sed: want 2 got 1'),
        ("{{ user }}", 'template: root:1:3: executing "root" at <user>: wrong number of args for user: want 1 got 0'),
        ("{{", "template: root:1:0: unclosed action"),
        ("{{ end }}", "template: root:1:3: unexpected {{end}}"),
        ("{{ if true }}x", "template: root:1:14: unexpected EOF"),
        ('{{ "abc }}', "template: root:1:3: unterminated quoted string"),
        ("{{ $y }}", 'template: root:1:3: undefined variable "$y"'),
        ("{{ break }}", "template: root:1:9: {{break}} outside {{range}}"),
        ("{{ 1 | 2 }}", "template: root:1:9: non executable command in pipeline stage 2"),
        ('{{ "x".Foo }}', 'template: root:1:6: unexpected . after term "\\"x\\""'),
        ("{{ 3x }}", 'template: root:1:3: bad number syntax: "3x"'),
        ('{{ "\\q" }}', "template: root:1:3: invalid syntax"),
        ("{{ (1 }}", "template: root:1:6: unclosed left paren"),
        ("{{ 1) }}", 'template: root:1:4: unexpected ")" in command'),
        ("{{ # }}", 'template: root:1:3: unexpected "#" in command'),
        ("{{ .S.X }}", 'template: root:1:5: executing "root" at <.S.X>: can\'t evaluate field X in type string'),
    ],
)
def test_errors_match_go(text: str, message: str) -> None:
    assert err(text, data={"S": "s"}) == message


def test_render_repeats_until_stable_and_bounds_the_loop() -> None:
    ctx = RenderContext(user_vars={"a": "{{user `b`}}", "b": "B"})
    assert render("{{user `a`}}", ctx) == "B"
    assert render_once("{{user `a`}}", ctx) == "{{user `b`}}"
    growing = "{{$s := %q}}{{printf $s $s}}x"
    quine = "{{$s := " + json.dumps(growing) + "}}{{printf $s $s}}x"
    assert render_once(quine, ctx) == quine + "x"
    with pytest.raises(RenderError, match="still changing"):
        render(quine, ctx)


def test_text_without_actions_is_returned_as_is() -> None:
    text = "no actions here { } }}"
    assert render(text, CTX) is text


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "{{" + "(" * 3000 + "1" + ")" * 3000 + "}}"
    with pytest.raises(RenderError):
        render(text, CTX)


def test_errors_carry_a_next_step_as_hint() -> None:
    with pytest.raises(RenderError) as info:
        out("{{ uper `a` }}")
    assert info.value.hint == 'did you mean "upper"?'
    with pytest.raises(RenderError) as info:
        out("{{ env `HOME` }}")
    assert "variable" in info.value.hint and "{{user `name`}}" in info.value.hint

"""Go-compatible JSON for ``fix``: decoding like ``json.Decoder`` and printing like ``packer fix``.

Expected texts were taken from Packer 1.6.6's ``packer fix -validate=false`` output.
"""

from __future__ import annotations

import pytest

from imagesmith.errors import TemplateError
from imagesmith.template.fix.gojson import format_fixed, format_float, parse_template


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (1.2345678901234569e23, "1.2345678901234569e+23"),
        (-0.0, "-0"),
        (0.0, "0"),
        (0.000001, "0.000001"),
        (1e20, "100000000000000000000"),
        (123456789.125, "123456789.125"),
        (9.99e-7, "9.99e-7"),
        (5e-324, "5e-324"),
        (1e100, "1e+100"),
        (-3.0, "-3"),
    ],
)
def test_floats_are_formatted_as_go_encodes_them(value: float, text: str) -> None:
    assert format_float(value) == text


def test_output_layout_matches_packer() -> None:
    template = {"push": {"name": "foo/bar"}, "builders": [{"type": "dummy"}], "e": [], "o": {}}
    assert format_fixed(template) == (
        '{\n  "builders": [\n    {\n      "type": "dummy"\n    }\n  ],\n  "e": [],\n  "o": {},\n'
        '  "push": {\n    "name": "foo/bar"\n  }\n}\n\n'
    )


def test_strings_are_escaped_as_packer_prints_them() -> None:
    text = format_fixed({"a": "<>&\u2028\u2029 \x01\b\f\t\n\r\x7f \\u003c é"})
    assert text.splitlines()[1] == '  "a": "<>\\u0026\\u2028\\u2029 \\u0001\\u0008\\u000c\\t\\n\\r\x7f \\< é"'


def test_keys_are_sorted_by_code_point() -> None:
    text = format_fixed({"b": 1, "B": 2, "a": 3, "é": 4, "_": 5})
    keys = [line.split(":")[0].strip() for line in text.splitlines()[1:-2]]
    assert keys == ['"B"', '"_"', '"a"', '"b"', '"é"']


def test_numbers_become_floats_and_duplicates_keep_the_last() -> None:
    template, trailing = parse_template(b'{"a": 1, "a": 2, "n": [10, 1e2]}', "t.json")
    assert template == {"a": 2.0, "n": [10.0, 100.0]}
    assert all(type(n) is float for n in template["n"])
    assert trailing is None


def test_text_after_the_object_is_reported_not_parsed() -> None:
    template, trailing = parse_template(b'{"a": "b"}\n  garbage', "t.json")
    assert template == {"a": "b"}
    assert trailing is not None and (trailing.line, trailing.column) == (2, 3)


def test_invalid_utf8_and_lone_surrogates_become_replacement_characters() -> None:
    template, _ = parse_template(b'{"a": "\xe2\x82a\xff", "b": "\\ud800x", "c": "\\ud83d\\ude00"}', "t.json")
    assert template == {"a": "\ufffd\ufffda\ufffd", "b": "\ufffdx", "c": "\U0001f600"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"[]", "cannot unmarshal array into Go value of type map[string]interface {}"),
        (b"null", "cannot unmarshal null"),
        (b'{"a": 1e400}', "cannot unmarshal number 1e400 into Go value of type float64"),
        (b'{"a": NaN}', "invalid"),
        (b'{\n  "a" 1}', "t.json:2:7"),
    ],
)
def test_bad_input_is_a_located_template_error(data: bytes, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse_template(data, "t.json")
    assert message in str(info.value)
    assert "t.json" in str(info.value)


def test_deep_nesting_is_refused_cleanly() -> None:
    shallow = b'{"a": ' + b"[" * 99 + b"]" * 99 + b"}"
    assert parse_template(shallow, "t.json")[0]["a"]
    for depth in (101, 900, 20000):
        with pytest.raises(TemplateError) as info:
            parse_template(b'{"a": ' + b"[" * depth + b"]" * depth + b"}", "t.json")
        assert "t.json" in str(info.value)

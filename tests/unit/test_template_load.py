"""The JSON loader: positions, duplicate keys, Go-worded syntax errors with caret excerpts."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.errors import Location, TemplateError
from imagesmith.template.load import load_json, parse_json
from imagesmith.template.positions import JsonArray, JsonObject, key_loc_of, loc_of


def _error(text: str) -> str:
    with pytest.raises(TemplateError) as info:
        parse_json(text, "t.json")
    return str(info.value)


def test_positions_of_keys_values_and_elements() -> None:
    doc = parse_json('{\n  "a": 1,\n  "b": [true,\n    {"c": "x"}]\n}', "t.json")
    assert isinstance(doc, JsonObject)
    assert doc.loc == Location("t.json", 1, 1)
    assert loc_of(doc, "a") == Location("t.json", 2, 8)
    assert key_loc_of(doc, "b") == Location("t.json", 3, 3)
    arr = doc["b"]
    assert isinstance(arr, JsonArray)
    assert arr.locs == [Location("t.json", 3, 9), Location("t.json", 4, 5)]
    assert loc_of(arr[1], "c") == Location("t.json", 4, 11)
    assert doc == {"a": 1, "b": [True, {"c": "x"}]}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("*", "t.json:1:1", "invalid character '*' looking for beginning of value"),
        ('{"a":1,}', "t.json:1:8", "invalid character '}' looking for beginning of object key string"),
        ('{"a" 1}', "t.json:1:6", "invalid character '1' after object key"),
        ('{"a":1 "b"}', "t.json:1:8", "invalid character '\"' after object key:value pair"),
        ("[1 2]", "t.json:1:4", "invalid character '2' after array element"),
        ("{}}", "t.json:1:3", "invalid character '}' after top-level value"),
        ("[1,", "t.json:1:4", "unexpected end of JSON input"),
        ("", "t.json:1:1", "unexpected end of JSON input"),
        ('"\\q"', "t.json:1:2", "invalid character 'q' in string escape code"),
        ("[NaN]", "t.json:1:2", "invalid character 'N' looking for beginning of value"),
        ("[-Infinity]", "t.json:1:3", "invalid character 'I' in numeric literal"),
        ('"a\nb"', "t.json:1:3", "invalid character '\\n' in string literal"),
        ('{"a":nn}', "t.json:1:7", "invalid character 'n' in literal null (expecting 'u')"),
        ("[tru]", "t.json:1:5", "invalid character ']' in literal true (expecting 'e')"),
        ("-{", "t.json:1:2", "invalid character '{' in numeric literal"),
        ("[1.x]", "t.json:1:4", "invalid character 'x' after decimal point in numeric literal"),
        ("[1e+]", "t.json:1:5", "invalid character ']' in exponent of numeric literal"),
    ],
)
def test_syntax_errors_are_worded_as_go_with_location(text: str, where: str, message: str) -> None:
    err = _error(text)
    assert err.startswith(f"{where}: Error parsing JSON: {message}\n"), err


def test_syntax_error_excerpt_has_previous_line_and_caret() -> None:
    err = _error('{\n  "builders": [\n    {"type":"test",}\n  ]\n}')
    lines = err.splitlines()
    assert lines[0].startswith("t.json:3:20: ")
    assert lines[1:] == ['    2:   "builders": [', '    3:     {"type":"test",}', " " * 26 + "^"]


def test_duplicate_keys_at_any_depth_are_all_reported() -> None:
    err = _error('{"a": {"b": 1, "b": 2},\n "a": 3, "c": [{"d": 1, "d": 1}]}')
    assert "t.json:1:16: template has duplicate field: b" in err
    assert "t.json:2:2: template has duplicate field: a" in err
    assert "template has duplicate field: d" in err
    assert err.startswith("3 errors occurred:")


def test_same_key_in_sibling_objects_is_fine() -> None:
    assert parse_json('[{"a": 1}, {"a": 2}]', "t.json") == [{"a": 1}, {"a": 2}]


def test_number_out_of_float_range_is_an_error() -> None:
    assert "cannot unmarshal number 1e400" in _error('{"a": 1e400}')


def test_lone_surrogate_becomes_replacement_character() -> None:
    assert parse_json('{"\\ud800": "\\udc00x\\ud83d\\ude00"}', "t.json") == {"\ufffd": "\ufffdx\U0001f600"}


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    assert "nested too deeply" in _error("[" * 5000)


def test_invalid_utf8_is_replaced_as_go_does(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{"a": "\xff"}')
    assert load_json(str(path)) == {"a": "\ufffd"}


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no such file or directory"):
        load_json(str(tmp_path / "nope.json"))
    with pytest.raises(TemplateError, match="is a directory"):
        load_json(str(tmp_path))

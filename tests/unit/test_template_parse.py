"""Template parsing as Packer 1.6.6's template.Parse, with every problem located."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from imagesmith.errors import TemplateError
from imagesmith.template.load import parse_json
from imagesmith.template.mapstructure import go_float
from imagesmith.template.min_version import format_version, version_less
from imagesmith.template.model import Template
from imagesmith.template.parse import check_template, load_template, parse_template
from imagesmith.template.values import Duration


def _parse(text: str) -> Template:
    return parse_template(parse_json(text, "t.json"), "/abs/t.json", "t.json")


def _errors(text: str) -> str:
    with pytest.raises(TemplateError) as info:
        _parse(text)
    return str(info.value)


def test_full_template_is_split_into_blocks() -> None:
    tpl = _parse(
        """{
        "_comment": "hi", "description": "d", "min_packer_version": "1.0",
        "variables": {"a": "x", "r": null}, "sensitive-variables": ["a"],
        "builders": [{"type": "null", "name": "one", "communicator": "none"}, {"type": "null"}],
        "provisioners": [{"type": "shell-local", "inline": ["x"], "only": "one", "pause_before": "1m",
                          "max_retries": 3, "timeout": 5, "override": {"one": {"inline": ["y"]}}}],
        "post-processors": ["compress", {"type": "checksum", "name": "c", "keep_input_artifact": true},
                            ["a", {"type": "b", "except": ["null"]}]],
        "error-cleanup-provisioner": {"type": "shell-local", "inline": ["z"]}
        }"""
    )
    assert tpl.comments == {"_comment": "hi"}
    assert (tpl.description, tpl.min_version) == ("d", "1.0")
    assert tpl.variables["a"].default == "x" and tpl.variables["r"].required
    assert [(b.name, b.type) for b in tpl.builders] == [("one", "null"), ("null", "null")]
    assert tpl.builders[0].config == {"communicator": "none"}
    prov = tpl.provisioners[0]
    assert prov.config == {"inline": ["x"]}
    assert prov.only == ["one"] and prov.pause_before == Duration(60) and prov.max_retries == "3"
    assert prov.timeout == pytest.approx(5e-9)
    assert prov.skip("null") and not prov.skip("one")
    assert [[(p.type, p.name) for p in chain] for chain in tpl.post_processors] == [
        [("compress", "compress")],
        [("checksum", "c")],
        [("a", "a"), ("b", "b")],
    ]
    assert tpl.post_processors[1][0].keep_input_artifact is True
    assert tpl.post_processors[1][0].config == {}
    assert tpl.cleanup_provisioner is not None and tpl.cleanup_provisioner.config == {"inline": ["z"]}
    assert check_template(tpl) == []


def test_root_problems_are_all_reported_with_locations() -> None:
    err = _errors('{"zz": 1, "_c": 2, "description": 3, "builders": {}, "variables": {"n": 1}}')
    assert "t.json:1:2: Unknown root level key in template: 'zz'" in err
    assert 't.json:1:17: Failed to cast root level comment value in comment "_c" to string.' in err
    assert "description: expected type 'string', got unconvertible type 'float64', value: '3'" in err
    assert "builders: source data must be an array or slice, got map" in err
    assert "variables.n: expected type 'string', got unconvertible type 'float64', value: '1'" in err


def test_variables_must_be_strings_or_null() -> None:
    err = _errors('{"variables": {"l": ["x"], "b": true, "m": {}}}')
    assert "'[]interface {}', value: '[x]'" in err
    assert "'bool', value: 'true'" in err
    assert "'map[string]interface {}', value: 'map[]'" in err


def test_builder_problems() -> None:
    err = _errors('{"builders": ["x", {"name": "a"}, {"type": "t"}, {"type": "t", "name": ""}, {"type": ["a"]}]}')
    assert "t.json:1:15: builders[0]: expected a map, got 'string'" in err
    assert "builders[1]: missing 'type'" in err
    assert "builders[3]: builder with name 't' already exists" in err
    assert "t.json:1:86: builders[4].type: expected type 'string', got unconvertible type '[]interface {}'" in err


def test_builder_meta_keys_are_weakly_typed() -> None:
    tpl = _parse('{"builders": [{"type": "t", "name": 2}, {"type": "t", "name": true}]}')
    assert [b.name for b in tpl.builders] == ["2", "1"]


def test_provisioner_problems() -> None:
    err = _errors(
        '{"provisioners": ["x", {}, {"type": "s", "pause_before": "soon"}, {"type": "s", "max_retries": []},'
        ' {"type": "s", "override": "o"}]}'
    )
    assert "provisioners[0]: expected a map, got 'string'" in err
    assert "provisioners[1]: Provisioner missing 'type'" in err
    assert 'provisioners[2].pause_before: time: invalid duration "soon"' in err
    assert "provisioners[3].max_retries: expected type 'string'" in err
    assert "provisioners[4].override: expected a map, got 'string'" in err


def test_post_processor_forms_and_strict_meta_keys() -> None:
    err = _errors(
        '{"post-processors": [1, [["a"], 2], {"type": 1}, {"type": "x", "keep_input_artifact": "true"},'
        ' {"name": "n"}, {"type": "x", "only": "a"}]}'
    )
    assert "post-processors[0]: bad format" in err
    assert "post-processors[1][0]: sequence not allowed to be nested in a sequence" in err
    assert "post-processors[1][1]: unknown format" in err
    assert "post-processors[2].type: expected type 'string'" in err
    assert "post-processors[3].keep_input_artifact: expected type 'bool', got unconvertible type 'string'" in err
    assert "post-processors[4]: type is required" in err
    assert "post-processors[5].only: source data must be an array or slice, got string" in err


def test_null_document_is_an_empty_template_and_non_object_is_not() -> None:
    assert _parse("null").builders == []
    assert "expected a map, got 'slice'" in _errors("[]")


def test_root_keys_match_case_insensitively_as_mapstructure_does() -> None:
    assert [b.type for b in _parse('{"Builders": [{"type": "t"}]}').builders] == ["t"]


def test_check_template_only_except_override_and_no_builders() -> None:
    tpl = _parse(
        '{"builders": [{"type": "a"}], "provisioners": [{"type": "p", "only": ["x"]}, '
        '{"type": "p", "only": ["a"], "except": ["a"]}, {"type": "p", "override": {"zz": {}}}],'
        ' "post-processors": [{"type": "q", "except": ["y"]}]}'
    )
    messages = [str(p) for p in check_template(tpl)]
    assert any("provisioners[0].only: 'only' specified builder 'x' not found" in m for m in messages)
    assert any("only one of 'only' or 'except' may be specified" in m for m in messages)
    assert any("override 'zz' doesn't exist" in m for m in messages)
    assert any("'except' specified builder 'y' not found" in m for m in messages)
    assert [str(p) for p in check_template(_parse("{}"))] == ["t.json: at least one builder must be defined"]


@pytest.mark.parametrize(
    ("minimum", "message"),
    [
        ("2.1.0", "This template requires Packer version 2.1.0 or higher; using 1.6.6"),
        ("v2.1", "This template requires Packer version 2.1.0 or higher; using 1.6.6"),
        ("1.6.7-beta", "This template requires Packer version 1.6.7-beta or higher; using 1.6.6"),
        ("abc", "min_version is invalid: Malformed version: abc"),
        ("1.6.6", None),
        ("1.6.6-dev", None),
        ("0.1", None),
    ],
)
def test_min_packer_version(minimum: str, message: str | None) -> None:
    problems = check_template(_parse(f'{{"min_packer_version": "{minimum}", "builders": [{{"type": "a"}}]}}'))
    assert [p.message for p in problems] == ([message] if message else [])


def test_version_helpers() -> None:
    assert version_less("1.6.6-beta", "1.6.6") and not version_less("1.6.6", "1.6.6+meta")
    assert format_version("01.7") == "1.7.0"
    assert [go_float(f) for f in (1.0, 1.5, 1e21, 1e-7)] == ["1", "1.5", "1e+21", "1e-07"]


def test_hcl2_files_are_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "t.pkr.hcl"
    path.write_text('source "null" "x" {}')
    with pytest.raises(TemplateError, match="HCL2 templates"):
        load_template(str(path))


def test_load_template_from_stdin_uses_cwd_as_template_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"builders": [{"type": "null"}]}')))
    tpl = load_template("-")
    assert (tpl.display, tpl.path) == ("<stdin>", str(tmp_path / "-"))


def test_numeric_builder_names_are_formatted_as_go_formats_float64() -> None:
    tpl = _parse('{"builders": [{"type": "t", "name": 4.611185981154918e16}, {"type": "t", "name": 1e-7}]}')
    assert [b.name for b in tpl.builders] == ["46111859811549180", "0.0000001"]

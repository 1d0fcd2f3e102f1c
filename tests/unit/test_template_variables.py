"""Variables: var files, -var precedence, chained defaults, required and sensitive variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagesmith.errors import TemplateError
from imagesmith.secrets import secrets
from imagesmith.template.load import parse_json
from imagesmith.template.model import Template
from imagesmith.template.parse import parse_template
from imagesmith.template.variables import (
    check_required,
    merge_given,
    parse_var_file,
    render_protected,
    render_variables,
)


def _tpl(variables: str, extra: str = "") -> Template:
    text = f'{{"variables": {variables}{extra}, "builders": [{{"type": "null"}}]}}'
    return parse_template(parse_json(text, "t.json"), "/tmp/t.json", "t.json")


def test_var_file_values_and_errors() -> None:
    assert parse_var_file('{"a": "1", "a": "2", "n": null} trailing', "v.json") == {"a": "2", "n": ""}
    assert parse_var_file("null", "v.json") == {}
    with pytest.raises(TemplateError, match=re.escape("cannot unmarshal number into Go value of type string")):
        parse_var_file('{"a": 1}', "v.json")
    with pytest.raises(TemplateError, match=re.escape("cannot unmarshal array into Go value of type kvflag.FlagJSON")):
        parse_var_file('["x"]', "v.json")
    with pytest.raises(TemplateError, match=re.escape("cannot unmarshal object into Go value of type string")):
        parse_var_file('{"a": {"b": "c"}}', "v.json")
    with pytest.raises(TemplateError, match=re.escape("Error reading variables in 'v.json': EOF")):
        parse_var_file("  \n", "v.json")
    with pytest.raises(TemplateError, match=re.escape("v.json:1:6: Error parsing JSON")):
        parse_var_file('{"a" 1}', "v.json")


def test_every_var_beats_every_var_file_whatever_the_order(tmp_path: Path) -> None:
    one, two = tmp_path / "1.json", tmp_path / "2.json"
    one.write_text('{"a": "file1", "b": "file1"}')
    two.write_text('{"b": "file2"}')
    assert merge_given({"a": "cli"}, [str(one), str(two)]) == {"a": "cli", "b": "file2"}


def test_required_variables() -> None:
    tpl = _tpl('{"r": null, "s": null, "o": "x"}')
    assert [p.message for p in check_required(tpl, {"s": "1"})] == ["required variable not set: r"]
    assert str(check_required(tpl, {})[0]) == "t.json:1:21: variables.r: required variable not set: r"


def test_chained_defaults_render_in_any_order() -> None:
    tpl = _tpl('{"bang": "bang{{user `baz`}}", "baz": "{{user `bar`}}baz", "bar": "{{user `foo`}}", "foo": "bar"}')
    values = render_variables(tpl, {})
    assert values["bang"] == "bangbarbaz" and values["baz"] == "barbaz"
    assert values[""] == ""  # Packer's quirk, visible in `console` → variables


def test_given_values_are_rendered_too_and_override_defaults() -> None:
    tpl = _tpl('{"a": "x", "b": "{{user `a`}}-b"}')
    assert render_variables(tpl, {"a": "cli", "c": "{{user `b`}}!"}) == {
        "": "",
        "a": "cli",
        "b": "cli-b",
        "c": "cli-b!",
    }


def test_undefined_reference_fails_with_packers_message() -> None:
    with pytest.raises(TemplateError) as info:
        render_variables(_tpl('{"baz": "{{user `bar`}}baz"}'), {})
    assert str(info.value).startswith('t.json:1:23: variables.baz: Failed to interpolate "baz": "{{user `bar`}}baz"; ')
    assert "Packer treats all variables used to interpolate other user variables as required." in str(info.value)


def test_env_works_in_defaults_and_dot_fields_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGESMITH_TEST_ENV", "from-env")
    values = render_variables(_tpl('{"e": "{{env `IMAGESMITH_TEST_ENV`}}_{{ .HTTPIP }}_{{.X}}"}'), {})
    assert values["e"] == "from-env_{{ .HTTPIP }}_{{.X}}"


def test_other_errors_name_the_variable() -> None:
    with pytest.raises(TemplateError, match="error interpolating default value for 'a'"):
        render_variables(_tpl('{"a": "{{ nosuchfunc }}"}'), {})


def test_sensitive_values_are_registered_with_the_secret_filter() -> None:
    tpl = _tpl('{"pw": "{{user `base`}}-hunter2", "base": "s3cr3t"}', ', "sensitive-variables": ["pw", "undeclared"]')
    render_variables(tpl, {})
    try:
        assert secrets.scrub("x s3cr3t-hunter2 y") == "x <sensitive> y"
    finally:
        secrets.clear()


def test_render_protected_leaves_dot_actions() -> None:
    from imagesmith.template.context import RenderContext

    ctx = RenderContext(user_vars={"a": "1"}, enable_env=True, in_variables=True)
    assert render_protected("{{user `a`}} {{ .Name }} {{.Other}}", ctx) == "1 {{ .Name }} {{.Other}}"


def test_self_reference_grows_once_per_pass_and_twice_when_declared_and_given() -> None:
    declared = _tpl('{"a": "x"}')
    assert render_variables(declared, {"a": "{{user `a`}}!"})["a"] == "{{user `a`}}" + "!" * 201
    assert render_variables(_tpl('{"b": "x"}'), {"a": "{{user `a`}}!"})["a"] == "{{user `a`}}" + "!" * 101


def test_partial_values_are_kept_when_rendering_fails() -> None:
    into: dict[str, str] = {}
    with pytest.raises(TemplateError):
        render_variables(_tpl('{"a": "{{user `a`}}{{user `a`}}", "b": "x"}'), {}, into=into)
    assert into == {"": "", "b": "x"}

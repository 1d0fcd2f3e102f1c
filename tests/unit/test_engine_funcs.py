"""Packer's template functions (build_name ... aws_secretsmanager), phase by phase."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imagesmith.errors import RenderError
from imagesmith.template.context import RenderContext, run_start_time
from imagesmith.template.engine import render, render_once
from imagesmith.template.funcs import PLACEHOLDER_MSG, SED_DEPRECATED

T0 = datetime(2021, 3, 4, 5, 6, 7, 891234, tzinfo=UTC)


def run(text: str, **kw: object) -> str:
    return render_once(text, RenderContext(**kw))  # type: ignore[arg-type]


def fails(text: str, **kw: object) -> str:
    with pytest.raises(RenderError) as info:
        run(text, **kw)
    return str(info.value)


def test_build_name_and_type() -> None:
    assert run("{{build_name}}-{{build_type}}", build_name="web", build_type="docker") == "web-docker"
    assert fails("{{build_name}}").endswith("error calling build_name: build_name not available")
    assert fails("{{build_type}}").endswith("error calling build_type: build_type not available")
    assert run('{{split build_name "-" 0}}', build_name="a-b") == "a"


def test_env_only_with_enable_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGESMITH_TEST_ENV", "val")
    assert run('{{env "IMAGESMITH_TEST_ENV"}}', enable_env=True) == "val"
    assert run('{{env "IMAGESMITH_TEST_UNSET_XYZ"}}', enable_env=True) == ""
    assert fails('{{env "IMAGESMITH_TEST_ENV"}}') == (
        'template: root:1:2: executing "root" at <env "IMAGESMITH_TEST_ENV">: '
        "error calling env: env vars are not allowed here"
    )


def test_isotime_and_strftime_use_init_time() -> None:
    assert run("{{isotime}}", init_time=T0) == "2021-03-04T05:06:07Z"
    assert run('{{isotime "2006-01-02 15:04:05.000 Mon Jan MST -0700"}}', init_time=T0) == (
        "2021-03-04 05:06:07.891 Thu Mar UTC +0000"
    )
    assert fails('{{isotime "a" "b"}}').endswith("error calling isotime: too many values, 1 needed: [a b]")
    assert run('{{strftime "%Y-%m-%d %H:%M:%S %% %q %"}}', init_time=T0) == "2021-03-04 05:06:07 % %q %"
    assert run("{{timestamp}}", init_time=T0) == str(int(T0.timestamp()))
    # One instant per process: two renders agree.
    assert run("{{timestamp}}") == run("{{timestamp}}") == str(int(run_start_time().timestamp()))


def test_uuid_is_time_ordered() -> None:
    value = run("{{uuid}}", init_time=T0)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value)
    assert int(value[:8], 16) == int(T0.timestamp())
    assert run("{{uuid}}") != run("{{uuid}}")


def test_pwd_and_template_dir(tmp_path: Path) -> None:
    assert run("{{pwd}}") == os.getcwd()
    template = tmp_path / "sub" / "t.json"
    assert run("{{template_dir}}", template_path=str(template)) == str(tmp_path / "sub")
    assert fails("{{template_dir}}").endswith("template path not available")


def test_user_by_phase() -> None:
    assert run("{{user `a`}}", user_vars={"a": "1"}) == "1"
    assert run("{{user `nope`}}", user_vars={"a": "1"}) == ""
    assert fails("{{user `nope`}}", user_vars={}, in_variables=True).endswith(
        "error calling user: Error: variable not set: nope"
    )
    assert fails("{{user `a`}}", user_vars=None).endswith("error calling user: test")


def test_packer_version() -> None:
    assert run("{{packer_version}}", packer_version="1.6.6") == "1.6.6"
    assert fails("{{packer_version}}").endswith("packer_version not available")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{{ split "a-b-c" "-" 1 }}', "b"),
        ('{{ split "abc" "" 2 }}', "c"),
        ('{{ replace "-" "/" 1 "a-b-c" }}', "a/b-c"),
        ('{{ replace "-" "/" -1 "a-b-c" }}', "a/b/c"),
        ('{{ replace "" "." 2 "ab" }}', ".a.b"),
        ('{{ replace_all "-" "/" "a-b-c" }}', "a/b/c"),
        ('{{ "a-b-c" | replace "-" "/" 1 }}', "a/b-c"),
        ('{{ upper "straße" }}', "STRAßE"),
        ('{{ "Hello World" | lower }}', "hello world"),
    ],
)
def test_string_functions(text: str, expected: str) -> None:
    assert run(text) == expected


def test_split_out_of_range() -> None:
    assert fails('{{ split "a-b" "-" 5 }}').endswith(
        "error calling split: the substring 5 was unavailable using the separator value, -, only 2 values were found"
    )


def test_sed_is_deprecated() -> None:
    assert fails('{{ sed "s/a/b/" "a" }}').endswith("error calling sed: " + SED_DEPRECATED)


def test_build_passthrough_then_value() -> None:
    assert run("{{ build `ID` }}", build_passthrough=True) == "{{.ID}}"
    data = {"ID": "container-123", "Later": "Build_Later. " + PLACEHOLDER_MSG}
    assert run("{{ build `ID` }}", data=data) == "container-123"
    assert run("{{ build `Later` }}", data=data) == "{{.Later}}"
    assert fails("{{ build `Nope` }}", data=data).endswith("loaded data, but couldnt find Nope in it.")
    assert fails("{{ build `ID` }}").endswith(
        "Error validating build variable: the given variable ID will not be passed into your plugin."
    )
    # Prepare-time passthrough, then the step that knows the value renders the placeholder.
    held = run("docker commit {{ build `ID` }}", build_passthrough=True)
    assert render(held, RenderContext(data={"ID": "abc"})) == "docker commit abc"


def test_secret_functions_only_in_variables() -> None:
    assert fails('{{ consul_key "k" }}').endswith("consul_key is not allowed here")
    assert fails('{{ vault "p" "k" }}').endswith("Vault vars are only allowed in the variables section")
    assert fails('{{ aws_secretsmanager "n" }}').endswith(
        "AWS Secrets Manager is only allowed in the variables section"
    )
    assert fails("{{ aws_secretsmanager }}", enable_env=True).endswith("secret name must be provided")
    assert fails('{{ aws_secretsmanager "a" "b" "c" }}', enable_env=True).endswith(
        "only secret name and optional secret key can be provided."
    )


def test_vault_without_token_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    assert "VAULT_TOKEN" in fails('{{ vault "secret/x" "k" }}', enable_env=True)


def test_extra_functions_from_a_builder() -> None:
    def clean_resource_name(name: str) -> str:
        return re.sub(r"[^a-z0-9-]", "-", name.lower())

    funcs = {"clean_resource_name": clean_resource_name}
    assert run("{{ clean_resource_name `My Image.1` }}", funcs=funcs) == "my-image-1"
    assert run("{{ `My Image` | clean_resource_name }}", funcs=funcs) == "my-image"
    assert fails("{{ clean_resource_name `x` }}") == 'template: root:1:3: function "clean_resource_name" not defined'

    def broken(name: str) -> str:
        raise ValueError("bad name")

    assert fails("{{ broken `x` }}", funcs={"broken": broken}).endswith("error calling broken: bad name")

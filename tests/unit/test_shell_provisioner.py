"""The shell provisioner's config rules and the pieces it shares (no machine needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagesmith.core.plugin import BuildInfo
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError, Problem
from imagesmith.provisioners.shell import ShellConfig, ShellProvisioner
from imagesmith.provisioners.shell_common import (
    check_exit_code,
    flatten_env_vars,
    make_env_vars,
    to_unix_newlines,
)
from imagesmith.template.decode import decode_config


def decode(raw: dict[str, Any]) -> tuple[ShellConfig, list[str]]:
    problems: list[Problem] = []
    config = decode_config(ShellConfig, raw, render=None, path="", problems=problems)
    return config, [p.message for p in problems]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Either a script file or inline script must be specified."),
        ({"script": "a", "scripts": ["b"]}, "Only one of script or scripts can be specified."),
        ({"inline": ["x"], "scripts": ["/etc/hostname"]}, "Only a script file or an inline script can be specified"),
        ({"script": "/nonexistent/s.sh"}, "Bad script '/nonexistent/s.sh': stat /nonexistent/s.sh: no such file"),
        ({"inline": ["x"], "environment_vars": ["=foo"]}, "Environment variable not in format 'key=value': =foo"),
        ({"inline": ["x"], "environment_vars": ["foobar"]}, "Environment variable not in format 'key=value': foobar"),
    ],
)
def test_config_errors(raw: dict[str, Any], message: str) -> None:
    _, problems = decode(raw)
    assert any(p.startswith(message) for p in problems), problems


def test_defaults_match_packer() -> None:
    info = BuildInfo(build_name="b", builder_type="docker")
    plain = ShellProvisioner(decode({"inline": ["x"]})[0], info)
    assert plain.execute_command == "chmod +x {{.Path}}; {{.Vars}} {{.Path}}"
    assert plain.env_var_format == "%s='%s' "
    assert plain.remote_path.startswith("/tmp/script_") and plain.remote_path.endswith(".sh")
    assert plain.retry_timeout == 300 and plain.valid_codes == [0]
    with_file = ShellProvisioner(decode({"inline": ["x"], "use_env_var_file": True})[0], info)
    assert with_file.execute_command == "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
    assert with_file.env_var_format == "export %s='%s'\n"
    custom = ShellProvisioner(decode({"inline": ["x"], "remote_folder": "/var", "remote_file": "s.sh"})[0], info)
    assert custom.remote_path == "/var/s.sh"
    explicit = ShellProvisioner(decode({"inline": ["x"], "remote_path": "/p.sh", "remote_folder": "/v"})[0], info)
    assert explicit.remote_path == "/p.sh"


def test_execute_command_is_not_rendered_at_prepare_time() -> None:
    config, problems = decode({"inline": ["x"], "execute_command": "sudo {{.Vars}} sh {{.Path}}"})
    assert problems == [] and config.execute_command == "sudo {{.Vars}} sh {{.Path}}"


def test_env_vars_sorted_quoted_and_injected() -> None:
    sentinel = {"PackerHTTPAddr": "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER"}
    pairs = make_env_vars(["Z=1", "A=it's", "EQ=a=b"], "build1", "docker", sentinel)
    assert pairs == [
        ("A", "it'\"'\"'s"),
        ("EQ", "a=b"),
        ("PACKER_BUILDER_TYPE", "docker"),
        ("PACKER_BUILD_NAME", "build1"),
        ("Z", "1"),
    ]
    assert flatten_env_vars(pairs[:1], "%s='%s' ") == "A='it'\"'\"'s' "
    http = make_env_vars([], "b", "qemu", {"PackerHTTPAddr": "10.0.2.2:8000", "PackerHTTPIP": "10.0.2.2"})
    assert ("PACKER_HTTP_ADDR", "10.0.2.2:8000") in http and ("PACKER_HTTP_IP", "10.0.2.2") in http


def test_env_var_format_like_go() -> None:
    assert flatten_env_vars([("K", "V")], "export %s='%s'\n") == "export K='V'\n"
    assert flatten_env_vars([("K", 'a"b')], "%s=%q ") == 'K="a\\"b" '
    assert flatten_env_vars([("K", "V")], "%s") == "K%!(EXTRA string=V)"
    assert flatten_env_vars([("K", "V")], "%s %s %s") == "K V %!s(MISSING)"
    assert flatten_env_vars([("K", "V")], "100%% %s=%s") == "100% K=V"


def test_unix_newlines() -> None:
    assert to_unix_newlines(b"a\r\nb\r\n") == b"a\nb\n"
    assert to_unix_newlines(b"a\nb") == b"a\nb\n"
    assert to_unix_newlines(b"") == b""


def test_execute_command_renders_with_the_build_context() -> None:
    info = BuildInfo(build_name="web", builder_type="docker", user_variables={"sudo": "sudo -E"})
    fields = {"Path": "/p", "Vars": "A=1"}
    assert render_runtime("chmod +x {{.Path}}; {{ .Vars }} {{.Path}}", info, fields) == "chmod +x /p; A=1 /p"
    assert render_runtime("{{user `sudo`}} sh {{.Path}} # {{build_name}}", info, fields) == "sudo -E sh /p # web"
    with pytest.raises(BuildError, match="Error processing command"):
        render_runtime("{{.Path", info, fields, error="Error processing command: ")


def test_exit_code_message() -> None:
    check_exit_code(3, [0, 3])
    with pytest.raises(BuildError) as err:
        check_exit_code(1, [0, 2])
    assert str(err.value) == "Script exited with non-zero exit status: 1.Allowed exit codes are: [0 2]"


def test_script_file_must_exist(tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text("echo\n")
    assert decode({"script": str(script)})[1] == []

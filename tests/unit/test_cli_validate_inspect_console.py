"""The validate, inspect and console verbs, run as a user runs them (real processes, real plugins)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagesmith.core.prepare import PrepareOptions, load_template, prepare_builds
from imagesmith.errors import TemplateError
from tests.conftest import run_cli

TEMPLATE = {
    "variables": {"v": "val", "n": "2", "pw": "hunter2-secret", "req": None},
    "sensitive-variables": ["pw"],
    "builders": [
        {"type": "null", "name": "a-{{user `v`}}", "communicator": "none"},
        {"type": "null", "name": "b", "communicator": "none"},
    ],
    "provisioners": [
        {
            "type": "shell-local",
            "inline": ["echo {{build `ID`}} {{build_name}} {{user `v`}}"],
            "max_retries": "{{user `n`}}",
            "override": {"a-{{user `v`}}": {"inline": ["override"]}},
        },
        {"type": "shell-local", "inline": ["x"], "only": ["b"], "pause_before": "2s", "timeout": "1m"},
    ],
    "post-processors": [["compress", {"type": "checksum", "name": "cs"}, "manifest"]],
}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TEMPLATE, indent=2))
    return path


def test_prepare_applies_only_except_override_and_meta_options(template: Path) -> None:
    tpl = load_template(str(template))
    builds = prepare_builds(tpl, PrepareOptions(vars={"req": "x"}))
    assert [(b.name, b.raw_name) for b in builds] == [("a-val", "a-{{user `v`}}"), ("b", "b")]
    a, b = builds
    assert [p.max_retries for p in a.provisioners] == [2]
    assert [(p.pause_before, p.timeout) for p in b.provisioners] == [(0.0, 0.0), (2.0, 60.0)]
    assert a.provisioners[0].make({"ID": "id"}).config.inline == ["override"]  # override matched on the raw name
    assert b.provisioners[0].make({"ID": "real-id"}).config.inline == ["echo real-id b val"]
    only_b = prepare_builds(tpl, PrepareOptions(vars={"req": "x"}, only=["b"], except_=["cs"]))
    assert [x.name for x in only_b] == ["b"]
    assert [[pp.name for pp in chain] for chain in only_b[0].post_processors] == [["compress"]]


def test_prepare_reports_every_problem_of_every_build_once(tmp_path: Path) -> None:
    bad = dict(TEMPLATE, variables={})
    bad["builders"] = [{"type": "null", "name": "x", "communicator": "none", "bogus": 1}, {"type": "nosuch"}]
    bad["provisioners"] = [{"type": "shell-local"}, {"type": "shell-local", "inline": ["x"], "max_retries": "lots"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad, indent=2))
    with pytest.raises(TemplateError) as info:
        prepare_builds(load_template(str(path)), PrepareOptions())
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == len(set(messages)) == 4, messages
    assert any('builders[0]: unknown configuration key: "bogus"' in m for m in messages)
    unknown = "builders[1]: error initializing builder 'nosuch': Unknown builder nosuch (imagesmith has: "
    assert any(unknown in m for m in messages)
    empty = "provisioners[0]: Command, Inline, Script and Scripts options cannot all be empty."
    assert any(empty in m for m in messages)
    assert any('`max_retries` must be a valid integer: strconv.Atoi: parsing "lots"' in m for m in messages)


def test_validate_success_and_required_variable(template: Path) -> None:
    ok = run_cli("validate", "-var", "req=1", str(template))
    assert (ok.returncode, ok.stdout) == (0, "The configuration is valid.\n")
    missing = run_cli("validate", str(template))
    assert missing.returncode == 1
    assert f"{template}:6:12: variables.req: required variable not set: req" in missing.stderr


def test_validate_syntax_only_skips_plugin_checks(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"builders": [{"type": "nosuch"}]}')
    result = run_cli("validate", "-syntax-only", str(path))
    assert (result.returncode, result.stdout) == (0, "Syntax-only check passed. Everything looks okay.\n")
    assert run_cli("validate", str(path)).returncode == 1


def test_validate_reads_stdin_and_reports_syntax_errors_with_a_caret() -> None:
    result = run_cli("validate", "-", stdin='{\n  "builders": [\n    {"type": "null",}\n  ]\n}')
    assert result.returncode == 1
    assert "<stdin>:3:21: Error parsing JSON: invalid character '}' looking for beginning of object key string" in (
        result.stderr
    )
    assert result.stderr.rstrip().endswith(" " * 27 + "^")


def test_var_flags_precedence_and_errors(template: Path, tmp_path: Path) -> None:
    var_file = tmp_path / "v.json"
    var_file.write_text('{"v": "file", "req": "r"}')
    for args in (["-var-file", str(var_file), "-var", "v=cli"], ["-var", "v=cli", "-var-file", str(var_file)]):
        result = run_cli("console", *args, str(template), stdin="{{user `v`}}\n")
        assert result.stdout == "cli\n", result.stderr
    bad = run_cli("validate", "-var", "novalue", str(template))
    assert bad.returncode == 1
    assert "invalid value \"novalue\" for flag -var: No '=' value in arg: novalue" in bad.stderr


def test_validate_wrong_argument_count() -> None:
    result = run_cli("validate")
    assert result.returncode == 1 and "exactly one TEMPLATE" in result.stderr


def test_inspect_human_and_machine_readable(template: Path) -> None:
    human = run_cli("inspect", str(template))
    assert human.returncode == 0
    assert "Required variables:\n\n  req\n" in human.stdout
    assert "  pw  = <sensitive>\n" in human.stdout and "hunter2" not in human.stdout
    assert "  a-{{user `v`}} (null)\n  b              (null)\n" in human.stdout
    assert "Provisioners:\n\n  shell-local\n  shell-local\n" in human.stdout
    machine = run_cli("inspect", "-machine-readable", str(template))
    fields = [line.split(",", 1)[1] for line in machine.stdout.splitlines()]
    assert ",template-variable,req,,1" in fields
    assert ",template-variable,pw,<sensitive>,0" in fields
    assert ",template-builder,a-{{user `v`}},null" in fields
    assert fields.count(",template-provisioner,shell-local") == 2
    assert ",ui,say,Builders:\\n" in fields


def test_inspect_machine_readable_errors_are_ui_error_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"bogus": 1}')
    result = run_cli("inspect", "-machine-readable", str(path))
    assert result.returncode == 1
    assert ",ui,error,Failed to parse template: " in result.stdout
    assert "Unknown root level key in template: 'bogus'" in result.stdout


def test_console_piped_lines_variables_help_and_errors(template: Path) -> None:
    stdin = "{{upper `x`}}\n\nvariables\n{{ nosuch }}\n{{user `pw`}}\nhelp\n{{build_name}}\n"
    result = run_cli("console", "-var", "req=r", str(template), stdin=stdin)
    assert result.returncode == 1
    out = result.stdout
    variables = "\n: ,\nn: 2,\npw: <sensitive>,\nreq: r,\nv: val,\n"
    assert out.startswith(f"X\n\n{variables}\n<sensitive>\nPacker console JSON Mode.")  # an empty line answers ""
    assert 'function "nosuch" not defined' in result.stderr
    assert "build_name not available" in result.stderr


def test_console_without_template_and_with_env_refused() -> None:
    result = run_cli("console", stdin="{{user `a`}}\n{{env `HOME`}}\n")
    assert result.stdout == "\n"
    assert "env vars are not allowed here" in result.stderr


def test_no_traceback_for_unreadable_template(tmp_path: Path) -> None:
    for verb in ("validate", "inspect", "console"):
        result = run_cli(verb, str(tmp_path / "nope.json"))
        assert result.returncode == 1
        assert "no such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_console_repl_on_a_terminal(template: Path) -> None:
    """On a tty: a prompt per line, results and errors as they come, `exit` ends with status 0."""
    import os
    import pty
    import select
    import sys
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execv(sys.executable, [sys.executable, "-m", "imagesmith", "console", "-var", "req=r", str(template)])
    output = b""

    def read_for(seconds: float) -> None:
        nonlocal output
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    return

    for prompts, line in enumerate((b"{{user `v`}}\n", b"{{ nosuch }}\n", b"exit\n"), start=1):
        deadline = time.monotonic() + 30
        while output.count(b"> ") < prompts:  # wait for the prompt before typing
            read_for(0.2)
            assert time.monotonic() < deadline, output
        os.write(fd, line)
    _, status = os.waitpid(pid, 0)
    read_for(0.2)
    text = output.decode()
    assert os.WEXITSTATUS(status) == 0
    assert "val\r\n" in text and 'function "nosuch" not defined' in text


def test_validate_machine_readable(template: Path, tmp_path: Path) -> None:
    ok = run_cli("validate", "-machine-readable", "-var", "req=1", str(template))
    assert ok.returncode == 0 and ok.stdout.split(",", 1)[1] == ",ui,say,The configuration is valid.\n"
    bad = tmp_path / "bad.json"
    bad.write_text('{"builders": [{"type": "null", "bogus": 1}]}')
    result = run_cli("validate", "-machine-readable", str(bad))
    assert result.returncode == 1
    assert result.stdout.split(",", 1)[1].startswith(",ui,error,Error: ")
    assert 'unknown configuration key: "bogus"' in result.stdout


def test_console_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`imagesmith console t.json | head -1`: the reader leaves early; no traceback, a non-zero exit."""
    import subprocess
    import sys

    template = tmp_path / "t.json"
    template.write_text('{"variables": {"a": "1"}, "builders": [{"type": "null", "communicator": "none"}]}')
    lines = tmp_path / "lines"
    lines.write_bytes(b"{{user `a`}}\n" * 50000)  # 100 kB of answers: more than a pipe holds
    with open(lines, "rb") as stdin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "imagesmith", "console", str(template)],
            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(2) == b"1\n"
        proc.stdout.close()  # the reader goes away with most answers unread
        err = proc.stderr.read()
        assert proc.wait(timeout=120) != 0
    assert err == b"", err  # quiet, as cat or grep are when their reader leaves

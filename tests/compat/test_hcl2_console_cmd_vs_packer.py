"""``imagesmith console`` on an HCL2 file against ``packer console`` (1.6.6): the printed answers.

The same lines are piped into both, one run a line; every answer (Packer's ``PrintableCtyValue`` layout: bare
strings, one element a line, sorted keys, Go's ``%g`` numbers) and the ``variables`` listing must be
identical. One difference is on purpose and tested on its own: a function applied to a sensitive
value stays ``<sensitive>`` (Packer 1.6.6 prints the secret's derived value).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from imagesmith.cli import main
from tests.packer_oracle import run_packer

TEMPLATE = """
variable "s" {
  default   = "sec"
  sensitive = true
}
variable "u" {
  type = string
}
variable "n" {
  default = 3
}
variable "obj" {
  type    = object({ a = list(string), b = number })
  default = { a = ["x"], b = 2 }
}
locals {
  l = ["a", 1, true, null, [1, 2], { x = 1 }]
  m = { b = "x", a = 1.5, c = [], d = {} }
  t = "${var.u}-${var.n}"
}
"""
LINES = [
    "local.l", "local.m", "local.t", '"str"', '"quote\\"d"', "1.5", "12345678901234567", "12345678901234567890",
    "0.1", "1e30", "1234567.5", "0.00001234", "-2.5", "100000.5", "1/3", "1e400", "true", "null", "[]", "{}",
    "var.s", "var.u", "var.n", "var.obj", "[var.s]", "{ k = var.s }", "packer.version", '{"a b" = 1}',
    "[for x in local.l : x if x != null]", 'yamlencode({a = 1, b = ["x"]})', "upper(var.u)", "", "variables",
    "help",
]  # fmt: skip


@pytest.fixture
def console_dir(tmp_path: Path) -> Path:
    (tmp_path / "t.pkr.hcl").write_text(TEMPLATE)
    return tmp_path


def _ours(lines: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    assert main(["console", "-var", "u=uu", "t.pkr.hcl"]) == 0
    return capsys.readouterr().out


def test_answers_match_packer_console(
    console_dir: Path, need_packer: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failures = []
    for line in LINES:  # one run a line: piped, Packer answers only the last line (imagesmith: each)
        theirs = run_packer("console", "-var", "u=uu", "t.pkr.hcl", stdin=f"{line}\n", cwd=console_dir)
        assert theirs.returncode == 0, theirs.stdout + theirs.stderr
        ours = _ours([line], console_dir, monkeypatch, capsys)
        if ours != theirs.stdout:
            failures.append((line, theirs.stdout, ours))
    assert not failures, failures


def test_functions_of_secrets_stay_masked(
    console_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _ours(["upper(var.s)", '"x${var.s}"'], console_dir, monkeypatch, capsys) == "<sensitive>\n<sensitive>\n"


def test_errors_are_located_and_fail_piped_mode(
    console_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(console_dir)
    monkeypatch.setattr(sys, "stdin", io.StringIO("nosuch(1)\nlocal.t\n"))
    assert main(["console", "t.pkr.hcl"]) == 1
    out, err = capsys.readouterr()
    assert out == "<unknown>\n"  # var.u has no value: a warning, and what uses it is unknown
    assert "Warning:" in err and "u" in err
    assert "Error: Call to unknown function" in err and "<console-input>:1:1" in err and "1: nosuch(1)" in err


def test_syntax_error_in_the_configuration_is_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.pkr.hcl").write_text("locals {\n  a = \n}\n")
    assert main(["console", str(tmp_path / "t.pkr.hcl")]) == 1
    assert f"{tmp_path / 't.pkr.hcl'}:2:7" in capsys.readouterr().err


def test_config_type_hcl2_without_a_template(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('upper("a")\n[1]\n'))
    assert main(["console", "-config-type=hcl2"]) == 0
    assert capsys.readouterr().out == "A\n[\n  1,\n]\n"


def test_inspect_prints_values_as_packer(tmp_path: Path, need_packer: None, capsys: pytest.CaptureFixture[str]) -> None:
    """``inspect`` lists variables and locals with the same printer (lists and maps one element a line)."""
    (tmp_path / "t.pkr.hcl").write_text(TEMPLATE.replace("type = string", 'type    = string\n  default = "d"'))
    theirs = run_packer("inspect", "t.pkr.hcl", cwd=tmp_path)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert main(["inspect", str(tmp_path / "t.pkr.hcl")]) == 0
    ours = capsys.readouterr().out
    assert ours.split("> builds:")[0] == theirs.stdout.split("> builds:")[0]
    assert 'local.l: "[\\n  \\"a\\",' in ours

"""``imagesmith fmt``: the HCL formatter's rules and the command's flags, files and exit codes.

Byte-for-byte agreement with ``packer fmt`` is tested in tests/compat/test_hcl2_fmt_vs_packer.py.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from imagesmith.cli import main
from imagesmith.hcl2.format import format_source

UGLY = 'variable "x"{\ntype=string\n  default  =   "a${ var.y }b"   # why\n  description="hi" // c2\n}\n'
PRETTY = (
    'variable "x" {\n  type        = string\n  default     = "a${var.y}b" # why\n'
    '  description = "hi"         // c2\n}\n'
)


@pytest.mark.parametrize(
    ("src", "want"),
    [
        (UGLY, PRETTY),
        ("a=[for x in [1,2] : x*2 if x>1]\n", "a = [for x in [1, 2] : x * 2 if x > 1]\n"),
        ("a={b=1,c=-1,d=1 - -2}\n", "a = { b = 1, c = -1, d = 1 - -2 }\n"),
        ("a = f( x... )\nbb = ( 1+2 )*3\n", "a  = f(x...)\nbb = (1 + 2) * 3\n"),
        ("a = {}\nb = x [0].y\n", "a = {}\nb = x[0].y\n"),
        ('h = "%{ if c }x%{ endif }"\n', 'h = "%{if c}x%{endif}"\n'),
        ("x = <<EOT\n  keep   ${ y } as is\n    EOT\n", "x = <<EOT\n  keep   ${y} as is\n    EOT\n"),
        ("b {\nc {\nd = [\n1,\n]\n}\n}\n", "b {\n  c {\n    d = [\n      1,\n    ]\n  }\n}\n"),
        ("a = 1\n\n\nlonger = 2\n", "a = 1\n\n\nlonger = 2\n"),  # a blank line keeps the run; alignment too
        ("é = 1\nab = 2\n", "é  = 1\nab = 2\n"),  # columns are characters, not bytes
        ("a = 1\r\nbb = 2\r\n", "a  = 1\r\nbb = 2\r\n"),
        ("a = 1   \n  ", "a = 1\n  "),  # blanks before the end of the file are Go HCL's to keep
        ("x = ns::f(1)\n", "x = ns::f(1)\n"),
    ],
)
def test_format_source(src: str, want: str) -> None:
    assert format_source(src) == want
    assert format_source(want) == want  # formatting is idempotent


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_check_reports_and_exits_3_without_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "t.pkr.hcl", UGLY)
    assert main(["fmt", "-check", str(path)]) == 3
    assert capsys.readouterr().out == f"{path}\n"
    assert path.read_text() == UGLY
    _write(tmp_path, "t.pkr.hcl", PRETTY)
    assert main(["fmt", "-check", str(path)]) == 0


def test_write_false_and_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "t.pkrvars.hcl", "a=1\n")
    assert main(["fmt", "-write=false", "-diff", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [str(path), f"--- old/{path}", f"+++ new/{path}"]
    assert "-a=1\n+a = 1\n" in out
    assert path.read_text() == "a=1\n"


def test_directory_rewrites_config_files_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path, "a.pkr.hcl", "a=1\n")
    ignored = [_write(tmp_path, n, "a=1\n") for n in (".h.pkr.hcl", "b.pkr.hcl~", "#c.pkr.hcl#", "d.hcl")]
    deep = _write(tmp_path, "sub/e.pkr.hcl", "a=1\n")
    assert main(["fmt", str(tmp_path)]) == 0
    assert a.read_text() == "a = 1\n"
    assert all(p.read_text() == "a=1\n" for p in [*ignored, deep])
    assert capsys.readouterr().out == f"{a}\n"
    assert main(["fmt", "-recursive", str(tmp_path)]) == 0
    assert deep.read_text() == "a = 1\n"


def test_stdin_to_stdout(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a=1\n")))
    assert main(["fmt", "-"]) == 0
    assert capsysbinary.readouterr().out == b"a = 1\n"


def test_syntax_error_names_the_place_and_leaves_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, "bad.pkr.hcl", "a=1\nb = \n")
    good = _write(tmp_path, "good.pkr.hcl", "a=1\n")
    assert main(["fmt", str(bad), str(good)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2:5" in err and "Invalid expression" in err and "2: b =" in err
    assert bad.read_text() == "a=1\nb = \n"
    assert good.read_text() == "a = 1\n"  # the other files are still formatted


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt"]) == 1
    json = _write(tmp_path, "t.json", "{}")
    assert main(["fmt", str(json)]) == 1
    assert main(["fmt", str(tmp_path / "missing.pkr.hcl")]) == 1
    err = capsys.readouterr().err
    assert "not an HCL2 configuration file" in err and "failed to read" in err and "Traceback" not in err

"""``yamldecode``/``yamlencode`` against Packer 1.6.6's (go-cty-yaml) through ``console``.

Every line of tests/fixtures/hcl2-yaml/expressions.txt goes to both consoles, one run a line
(piped, Packer 1.6.6 answers only the last line): the answers must be identical, and so must each
failing call's message (Packer wraps its messages at 80 columns; whitespace is compared collapsed).
The documented differences are tested in tests/unit/test_hcl2_yaml.py.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from imagesmith.cli import main
from tests.packer_oracle import run_packer

EXPRESSIONS = Path(__file__).parent.parent / "fixtures/hcl2-yaml/expressions.txt"
_CALL = re.compile(r'Call to function "\w+" failed: (.*?)\.?\n\n', re.DOTALL)


def _messages(stderr: str) -> list[str]:
    return [" ".join(m.split()) for m in _CALL.findall(stderr + "\n\n")]


def _ours(line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(line + "\n"))
    main(["console", "t.pkr.hcl"])
    out, err = capsys.readouterr()
    return out, err


def test_yaml_functions_match_packer(
    tmp_path: Path, need_packer: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.pkr.hcl").write_text("locals {\n  a = 1\n}\n")
    monkeypatch.chdir(tmp_path)
    failures = []
    errors = 0
    for line in EXPRESSIONS.read_text().splitlines():
        theirs = run_packer("console", "t.pkr.hcl", stdin=line + "\n", cwd=tmp_path)  # one line: piped
        out, err = _ours(line, monkeypatch, capsys)  # Packer answers only its last line
        wanted = _messages(theirs.stdout + theirs.stderr)
        errors += bool(wanted)
        if (_messages(err) if wanted else out) != (wanted or theirs.stdout):
            failures.append((line, theirs.stdout, out + err))
    assert not failures, failures[:3]
    assert errors >= 10

"""``imagesmith fmt`` against ``packer fmt`` (Packer 1.6.6, Go HCL 2.6's hclwrite) byte for byte.

Packer's HCL2 fixtures, the specsuite and our syntax corpus are re-spaced by a seeded mutator
(indentation, spaces around tokens and after ``=``, blank lines, CRLF) and, for variety, cut by
the syntax mutator; every result both sides parse is formatted by both, in one ``packer fmt`` run
over a directory, and the outputs must be identical.

Go HCL 2.8 changed one rule after Packer 1.6.6: no space after ``!`` (``!x``, where 1.6.6 writes
``! x``); current Packer, and imagesmith, follow it. Files with a ``!`` that is not ``!=`` are left
out of the comparison and the rule is tested on its own.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from imagesmith.hcl2.format import format_config, format_source
from imagesmith.hcl2.parser import parse_config
from tests.compat.test_hcl2_gohcl_differential import CORPUS_FILES, _go_accepts, _mutate
from tests.packer_oracle import run_packer

SEED = 20261203
RESPACED = 600
CUT = 300
_GAP = re.compile(r"(?<=[=,(\[{:?+*/<>])|(?=[=,)\]}:?+*/<>])|(?<=\S) (?=\S)")


def _respace(rng: random.Random, text: str) -> str:
    """Change only blanks: the result means the same and must format to the same."""
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip(" \t")
        line = " " * rng.choice((0, 0, 1, 2, 3, 4, 7)) + stripped if rng.random() < 0.5 else line
        if rng.random() < 0.4:
            line = _GAP.sub(lambda _m: " " * rng.choice((0, 1, 1, 2, 3)), line)
        if rng.random() < 0.1:
            line += " " * rng.randint(1, 3)
        out.append(line)
        if rng.random() < 0.05:
            out.append("")
    sep = "\r\n" if rng.random() < 0.05 else "\n"
    return sep.join(out)


def _valid(text: str) -> bool:
    data = text.encode("utf-8", "surrogateescape")
    _, diags = parse_config(data, "t.pkr.hcl")
    return not diags.has_errors() and _go_accepts(data)


def _cases() -> list[str]:
    rng = random.Random(SEED)
    corpus = [p.read_bytes().decode("utf-8", "surrogateescape") for p in CORPUS_FILES]
    cases = [*corpus]
    cases += [_respace(rng, rng.choice(corpus)) for _ in range(RESPACED)]
    cases += [_mutate(rng, _respace(rng, rng.choice(corpus))) for _ in range(CUT)]
    bang = re.compile(r"!(?!=)")
    return [c for c in cases if not bang.search(c) and "::" not in c and _valid(c)]


def test_fmt_output_equals_packer_fmt(tmp_path: Path, need_packer: None) -> None:
    cases = _cases()
    assert len(cases) > 500, "the mutator should leave most files valid"
    for i, text in enumerate(cases):
        (tmp_path / f"{i:04}.pkr.hcl").write_bytes(text.encode("utf-8", "surrogateescape"))
    proc = run_packer("fmt", str(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stderr
    mismatched = []
    for i, text in enumerate(cases):
        theirs = (tmp_path / f"{i:04}.pkr.hcl").read_bytes()
        ours = format_config(text.encode("utf-8", "surrogateescape"), "t.pkr.hcl")
        if ours != theirs:
            mismatched.append((i, text, theirs.decode("utf-8", "surrogateescape")))
    assert not mismatched, mismatched[:3]


@pytest.mark.parametrize("name", ["unformatted.pkr.hcl", "unformatted.pkrvars.hcl", "formatted.pkr.hcl"])
def test_packer_fmt_fixtures(name: str, tmp_path: Path, need_packer: None) -> None:
    src = Path(__file__).parent.parent / "fixtures/packer-1.6.6/hcl2/format" / name
    shutil.copy(src, tmp_path / name)
    proc = run_packer("fmt", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert format_config(src.read_bytes(), name) == (tmp_path / name).read_bytes()


def test_check_exit_codes_match_packer(tmp_path: Path, need_packer: None) -> None:
    from imagesmith.cli import main

    fixtures = Path(__file__).parent.parent / "fixtures/packer-1.6.6/hcl2/format"
    for name in ("unformatted.pkr.hcl", "formatted.pkr.hcl"):
        shutil.copy(fixtures / name, tmp_path / name)
        theirs = run_packer("fmt", "-check", name, cwd=tmp_path).returncode
        assert main(["fmt", "-check", str(tmp_path / name)]) == theirs, name


def test_no_space_after_bang_as_current_go_hcl() -> None:
    assert format_source("a = ! b\nc=!!d\n") == "a = !b\nc = !!d\n"

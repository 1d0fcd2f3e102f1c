"""Syntax verdicts against Go HCL (pygohcl 1.2.9 wraps hashicorp/hcl v2.24.0) over mutated files.

A seeded mutator inserts, deletes, duplicates and moves pieces of valid HCL files (Packer 1.6.6's
HCL2 fixtures and our own syntax corpus) and both parsers judge every mutant valid or invalid.
The verdicts must agree on every one. Files Go rejects also check that our first error is
reported, with a position, not as a crash.
"""

from __future__ import annotations

import random
from pathlib import Path

import pygohcl
import pytest

from imagesmith.hcl2.parser import parse_config

FIXTURES = Path(__file__).parent.parent / "fixtures"
CORPUS_FILES = sorted(
    p for p in [*FIXTURES.glob("packer-1.6.6/**/*.hcl"), *FIXTURES.glob("hcl2-corpus/*.hcl"),
                *FIXTURES.glob("hcl-specsuite/tests/**/*.hcl")] if p.is_file()
)
PIECES = [*"{}[]()\"=,.:?!<>\n$%~*#/-\\+ &|'`;a1_", "${", "%{", "~}", "<<EOT\n", "EOT\n", "//", "/*", "*/", "...",
          "=>", "::", "\t", "\r\n", "é", "\u201c", "for ", " in ", "if ", "%{ endif }", "%{ else }", "$${", "%%{",
          "1.5", ".0", "[*]", ".*", "\\u00e9", "\\q", "<<-EOT\n", "  EOT\n", "\ufeff", "\udcff"]
MUTANTS = 1500
SEED = 20260312


def _go_accepts(data: bytes) -> bool:
    try:
        pygohcl.loadb(data)
    except pygohcl.HCLParseError:
        return False
    except pygohcl.HCLInternalError:  # converting to JSON failed; the syntax was accepted
        return True
    return True


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        if not text:
            break
        i = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.35:
            text = text[:i] + rng.choice(PIECES) + text[i:]
        elif op < 0.65:
            text = text[:i] + text[min(len(text), i + rng.randint(1, 3)) :]
        elif op < 0.8:
            lines = text.split("\n")
            lines.insert(rng.randrange(len(lines)), lines[rng.randrange(len(lines))])
            text = "\n".join(lines)
        else:
            j = min(len(text), i + rng.randint(1, 8))
            k = rng.randrange(len(text) + 1)
            text = text[:k] + text[i:j] + text[k:]
    return text


def _corpus() -> list[str]:
    texts = [p.read_bytes().decode("utf-8", "surrogateescape") for p in CORPUS_FILES]
    own = [p.read_text() for p in CORPUS_FILES if "hcl2-corpus" in str(p)]
    return texts + own * 15  # weight our corpus: it has every construct the fixtures lack


def test_corpus_is_valid_to_both() -> None:
    for path in CORPUS_FILES:
        data = path.read_bytes()
        _, diags = parse_config(data, str(path))
        assert _go_accepts(data) == (not diags.has_errors()), (path, [str(d) for d in diags])


def test_mutants_get_the_same_verdict_as_go_hcl() -> None:
    rng = random.Random(SEED)
    corpus = _corpus()
    disagreements: list[str] = []
    invalid = checked = 0
    while checked < MUTANTS:
        data = _mutate(rng, rng.choice(corpus)).encode("utf-8", "surrogateescape")
        if b"\x00" in data:  # pygohcl passes the text as a C string
            continue
        checked += 1
        go_ok = _go_accepts(data)
        _, diags = parse_config(data, "mutant.hcl")
        ours_ok = not diags.has_errors()
        invalid += not go_ok
        if not ours_ok:
            first = diags.errors()[0]
            assert first.subject is not None and first.subject.start_pos.line >= 1
        if go_ok != ours_ok:
            disagreements.append(f"go={go_ok} ours={ours_ok}: {data[:200]!r} {[str(d) for d in diags][:2]}")
    assert invalid > MUTANTS // 4, "the mutator should produce plenty of invalid files"
    assert not disagreements, "\n".join(disagreements[:10])


def _go_diagnostics(data: bytes) -> str:
    try:
        pygohcl.loadb(data)
    except pygohcl.HCLParseError as exc:
        return str(exc).removeprefix("invalid HCL: ")
    return ""


def _our_diagnostics(data: bytes) -> str:
    _, diags = parse_config(data, "tmp.hcl")
    return ", ".join(f"{d.subject}: {d.summary}; {d.detail}" for d in diags)


def test_mutants_get_go_hcl_diagnostics_word_for_word() -> None:
    """Every diagnostic (summary, detail, range) of invalid mutants, compared as Go prints them."""
    rng = random.Random(SEED + 1)
    corpus = _corpus()
    same, different = 0, []
    while same + len(different) < 1000:
        data = _mutate(rng, rng.choice(corpus)).encode("utf-8", "surrogateescape")
        if b"\x00" in data:
            continue
        go = _go_diagnostics(data)
        if not go:
            continue
        ours = _our_diagnostics(data)
        if ours == go:
            same += 1
        else:
            different.append(f"{data[:120]!r}\n  go:   {go[:300]}\n  ours: {ours[:300]}")
    assert same >= 1000
    assert not different, "\n".join(different[:10])


@pytest.mark.parametrize(
    "src",
    [
        'a = "x\ny"\n',
        "a = 1 b = 2\n",
        "a = 1\na = 2\n",
        "b {\n",
        "= 1\n",
        "a = \n",
        'a = "${x"\n',
        "a = 'x'\n",
        'a { b = "foo", c = "bar" }\n',
        'a = "%{ if x }y"\n',
        "a = b.*.0.1\n",
        'a = "\\q \\u12"\n',
        "a = <<EOT\nx\n",
        'a = { "k" = 1, "k" = 2 }\nb = [for x in y : x => x]\n',
    ],
)
def test_error_summaries_and_positions_match_go(src: str) -> None:
    data = src.encode()
    go = _go_diagnostics(data)
    assert go, "Go HCL rejects it"
    assert _our_diagnostics(data) == go

"""``imagesmith console`` -- the command, not only the engine -- against ``packer console`` (1.6.6).

test_engine_vs_packer.py compares our template engine with Packer's console; this compares what the
``console`` command itself answers, in its own context (user variables and template directory; no
build, no ``env``, no ``packer_version``), through ``-machine-readable`` so that every answer is one
record: first every recorded expression (tests/compat/expected/engine_console.json), then the
console's own words (``variables``, an empty line, every template function) against the live Packer.
Deliberate differences are in docs/differences.md (``console``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compat.test_engine_vs_packer import (
    DIR,
    EXPECTED,
    USER_VARS,
    _disagreements,
    _normalize_parse_error,
    parse_console_records,
)
from tests.conftest import run_packer

pytestmark = [pytest.mark.compat]

#: each of Packer's template functions (and the console's words) as the console answers them
CONSOLE_LINES = [
    "variables", "", "{{ packer_version }}", "{{ build_name }}", "{{ build_type }}", "{{ build `ID` }}",
    "{{ build `Host` }}", '{{ env "HOME" }}', "{{ user `x` }}", "{{ user `nope` }}", "{{ template_dir }}",
    "{{ pwd }}", "{{ .HTTPIP }}", "{{ .Name }}", '{{ sed "s/a/b/" "a" }}', '{{ consul_key "k" }}',
    '{{ vault "p" "k" }}', '{{ aws_secretsmanager "s" }}', '{{ split "a-b" "-" 1 }}', '{{ replace "a" "b" 1 "aa" }}',
    '{{ replace_all "a" "b" "aa" }}', '{{ upper "a" }}', '{{ lower "A" }}', "{{ clean_resource_name `A b` }}",
    "{{ timestamp | len }}", "{{ uuid | len }}", '{{ isotime "2006" | len }}', '{{ strftime "%Y" | len }}',
    "{{ isotime | len }}", "{{ uuid | printf `%.9s` | len }}",
]  # fmt: skip


def _template(where: Path) -> Path:
    path = where / "t.json"
    path.write_text(json.dumps({"variables": USER_VARS, "builders": [{"type": "null", "communicator": "none"}]}))
    return path


def _imagesmith_console(where: Path, lines: list[str]) -> list[tuple[bool, str]]:
    """Our console's answers, (is_error, text) per line, parse-error columns removed, paths as DIR."""
    template = _template(where)
    stdin = where / "stdin.txt"
    stdin.write_text("".join(line + "\n" for line in lines))
    with stdin.open() as fh:
        done = subprocess.run(
            [sys.executable, "-m", "imagesmith", "-machine-readable", "console", str(template)],
            stdin=fh, capture_output=True, text=True, cwd=where, timeout=300,
        )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    results = parse_console_records(done.stdout)
    assert len(results) == len(lines), done.stdout + done.stderr
    return [(err, (_normalize_parse_error(text) if err else text).replace(str(where), DIR)) for err, text in results]


def test_console_command_agrees_with_recorded_packer(tmp_path: Path) -> None:
    """Every recorded expression, through ``imagesmith -machine-readable console``: Packer's answers."""
    recorded = json.loads(EXPECTED.read_text())
    expressions = [case[0] for case in recorded["cases"]]
    theirs = [(bool(case[1]), str(case[2])) for case in recorded["cases"]]
    mine = _imagesmith_console(tmp_path, expressions)
    bad = _disagreements(expressions, theirs, mine)
    assert not bad, f"{len(bad)} of {len(expressions)} differ:\n" + "\n".join(bad[:40])


def test_console_words_and_functions_agree_with_packer(need_packer: None, tmp_path: Path) -> None:
    template = _template(tmp_path)
    packer = run_packer(
        "-machine-readable", "console", str(template), stdin="".join(f"{line}\n" for line in CONSOLE_LINES),
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    theirs = [(err, text.replace(str(tmp_path), DIR)) for err, text in parse_console_records(packer.stdout)]
    assert len(theirs) == len(CONSOLE_LINES), packer.stdout + packer.stderr
    mine = _imagesmith_console(tmp_path, CONSOLE_LINES)
    # Packer lists the variables in Go map order (random); imagesmith sorts them (docs/differences.md)
    i = CONSOLE_LINES.index("variables")
    theirs[i], mine[i] = ((err, "\n".join(sorted(text.split("\n")))) for err, text in (theirs[i], mine[i]))
    bad = _disagreements(CONSOLE_LINES, theirs, mine)
    assert not bad, "\n".join(bad)


def test_help_differs_only_by_the_hcl2_hint(need_packer: None, tmp_path: Path) -> None:
    """``help``: Packer's text, less its last paragraph (``--config-type=hcl2``, which imagesmith lacks)."""
    template = _template(tmp_path)
    packer = run_packer("-machine-readable", "console", str(template), stdin="help\n", cwd=tmp_path, timeout=120)
    [(_, theirs)] = parse_console_records(packer.stdout)
    [(_, mine)] = _imagesmith_console(tmp_path, ["help"])
    hint = re.search(r"\n\n/!\\ If you would like to start console in hcl2 mode.*", theirs, re.S)
    assert hint is not None, theirs
    assert mine == theirs[: hint.start()]

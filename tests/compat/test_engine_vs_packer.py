# ruff: noqa: E501 - the expression table reads best one family per line
"""Differential test: the same expressions through ``packer console`` (Packer 1.6.6) and our engine.

All expressions go through ONE ``packer -machine-readable console`` run (it is slow to start).
Its stdin must be a file: with a pipe, Packer 1.6.6's console only answers the last line.
Packer's parse errors carry only a line (``root:1:``); ours add a column, which is removed before
comparing. Console wraps long error messages at 80 columns; the wrapping is undone.
"""

from __future__ import annotations

import json
import os
import random
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imagesmith.errors import RenderError
from imagesmith.template.context import RenderContext
from imagesmith.template.engine import render
from tests.conftest import run_packer
from tests.unit.test_engine_fuzz import VALID, VOCABULARY

pytestmark = [pytest.mark.compat]

USER_VARS = {"x": "y", "csv": "a,b,c", "name": "My Image-01", "empty": "", "num": "42"}

EXPRESSIONS = [
    # literals and printing
    "{{ 1 }}", "{{ -7 }}", "{{ 1.5 }}", "{{ 1e3 }}", "{{ 1e6 }}", "{{ 100000.0 }}", "{{ 1234567.0 }}",
    "{{ 0.0001 }}", "{{ 0.00001 }}", "{{ 1e21 }}", "{{ 0x1F }}", "{{ 0o17 }}", "{{ 017 }}", "{{ 0b11 }}",
    "{{ 1_000 }}", "{{ 0x_1 }}", "{{ 'a' }}", "{{ '\\n' }}", "{{ true }}", "{{ false }}", "{{ nil }}",
    '{{ "a\\tb\\x41\\u00e9\\U0001F600\\101" }}', "{{ `raw \\t` }}", "{{ . }}", "{{ .Missing }}",
    "{{ .A.B }}", "{{ $ }}", "{{ 9223372036854775807 }}", "{{ 9223372036854775808 }}", "{{ 1.0e400 }}",
    # text, trimming, comments
    "a {{- 1 -}} b", "a {{-1}} b", "{{/* c */}}x", "x {{- /* c */ -}} y", "{{- /* c */}}", "{{/* c */ -}} z",
    # functions of Packer
    '{{ split "a-b-c" "-" 1 }}', '{{ split "a-b-c" "-" 3 }}', '{{ split "abc" "" 1 }}', '{{ split "a" "-" -1 }}',
    '{{ replace "-" "/" 1 "a-b-c" }}', '{{ replace "-" "/" -1 "a-b-c" }}', '{{ replace "" "." 2 "ab" }}',
    '{{ replace_all "-" "/" "a-b-c" }}', '{{ "a-b-c" | replace "-" "/" 1 }}', '{{ upper "straße ǆ" }}',
    '{{ lower "İSTANBUL ÀB" }}', '{{ "Hello World" | lower }}', "{{ user `x` }}", "{{ user `nope` }}",
    '{{ user "csv" | split "," 2 }}', "{{ user `name` | lower | replace_all \" \" \"-\" }}",
    "{{ build_name }}", "{{ build_type }}", "{{ packer_version }}", '{{ env "HOME" }}', "{{ user }}",
    '{{ sed "a" "b" }}', '{{ sed "a" }}', '{{ consul_key "a" }}', '{{ vault "a" "b" }}',
    '{{ aws_secretsmanager "a" }}', "{{ build `ID` }}", "{{ isotime 1 }}", '{{ isotime "a" "b" }}',
    "{{ clean_resource_name `a` }}", "{{ split `a` `-` `0` }}", "{{ split `a` `-` 1.0 }}", "{{ split `a` `-` 1.5 }}",
    "{{ upper 1 }}", "{{ 1 | upper }}", "{{ upper nil }}", "{{ upper .X }}", "{{ upper . }}",
    # builtins
    "{{ and 1 0 }}", "{{ and 1 2 }}", '{{ or 0 "" "x" }}', "{{ or 0 false }}", '{{ not "" }}', "{{ not 1 }}",
    "{{ and }}", "{{ eq 1 1 }}", "{{ eq 1 2 3 1 }}", '{{ eq "a" "a" }}', '{{ eq 1 "a" }}', "{{ eq 1 1.0 }}",
    "{{ eq true true }}", "{{ eq .Missing .Missing }}", "{{ ne 1 2 }}", '{{ ne "a" "a" }}', "{{ lt 1 2 }}",
    "{{ lt 2.5 1.5 }}", '{{ lt "a" "b" }}', "{{ lt true false }}", "{{ le 2 2 }}", "{{ gt 3 2 }}", "{{ ge 1 2 }}",
    "{{ lt 1 2.0 }}", "{{ eq }}", "{{ eq 1 }}", '{{ len "héllo" }}', "{{ len 3 }}", "{{ len . }}",
    '{{ index "abc" 1 }}', '{{ index "abc" 5 }}', '{{ index "abc" -1 }}', "{{ index 1 1 }}", '{{ index "a" "b" }}',
    '{{ slice "abcdef" 1 3 }}', '{{ slice "abcdef" 2 }}', '{{ slice "abc" 2 1 }}', '{{ slice "abc" 1 2 3 }}',
    '{{ print "a" 1 2 "b" 3.5 true nil }}', '{{ println "a" "b" }}', '{{ print }}',
    '{{ html "<a href=\\"x\\">&\'</a>" }}', '{{ html 1 "<" }}', '{{ js "a\'b\\"c<>&=\\t" }}', '{{ js "é\\u2028" }}',
    '{{ urlquery "a b&c=d/é?~_.-" }}', '{{ urlquery "a" 1 }}',
    '{{ printf "%s|%5s|%-5s|%.2s|%q" "a" "b" "c" "def" "g\\"h" }}', '{{ printf "%d|%5d|%-5d|%05d|%+d|% d" 1 2 3 4 5 6 }}',
    '{{ printf "%x|%X|%o|%O|%b|%#x|%#o|%c|%U|%#U|%q" 255 255 8 8 5 255 8 65 65 233 66 }}',
    '{{ printf "%f|%.2f|%8.3f|%e|%E|%g|%G|%.3g|%v" 3.14159 3.14159 3.14159 1234.5 1234.5 0.00001 1e21 2.0 2.5 }}',
    '{{ printf "%t|%v|%5t" true false true }}', '{{ printf "%v|%T|%T|%T|%T" nil 1 1.5 "s" true }}',
    '{{ printf "%d %d" 1 }}', '{{ printf "%d" 1 2 }}', '{{ printf "%z" 1 }}', '{{ printf "%s" 1 }}', '{{ printf "%d" "a" }}',
    '{{ printf "%" }}', '{{ printf "%5" }}', '{{ printf "%%|%*d|%-*d|" 4 1 3 2 }}', '{{ printf "%x|% x|%#x" "hi" "hi" "hi" }}',
    '{{ printf "%6.2f|%-8.3e|%+.1f" -3.14159 0.000123 2.25 }}', '{{ printf "%.0f %.0f %.1f" 0.5 1.5 0.25 }}',
    '{{ printf "%q|%+q|%#q" "é\\t" "é" "raw" }}', '{{ printf "%s" nil }}', '{{ printf "%v" }}', "{{ printf 1 }}",
    # pipelines, parentheses, variables, control flow
    '{{ "a" | printf "%s-%s" "b" }}', '{{ (print "a" "b") | upper }}', '{{ print (upper "a") (lower "B") }}',
    '{{ ("x") }}', '{{ (1) }}', '{{ $x := "v" }}{{ $x }}', '{{ $x := "v" }}{{ $x = "w" }}{{ $x }}',
    '{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', '{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}',
    "{{ if true }}yes{{ else }}no{{ end }}", "{{ if 0 }}yes{{ else if 1 }}one{{ else }}no{{ end }}",
    '{{ if "" }}a{{ end }}b', '{{ with "" }}a{{ else }}b{{ end }}', '{{ with "v" }}{{ . }}{{ end }}',
    "{{ with $x := 1 }}{{ $x }}{{ end }}", '{{ range $i, $c := split "a,b" "," 0 }}{{ $i }}{{ end }}',
    "{{ range .Missing }}a{{ else }}none{{ end }}", "{{ range 3 }}a{{ end }}", "{{ range nil }}a{{ end }}",
    "{{ if }}", "{{ end }}", "{{ else }}", "{{ if true }}", "{{ if true }}{{ else }}{{ else }}{{ end }}",
    "{{ range }}{{ end }}", "{{ break }}", "{{ continue }}", '{{ define "x" }}a{{ end }}{{ template "x" }}',
    '{{ template "nope" }}', '{{ block "b" 1 }}[{{ . }}]{{ end }}', "{{ with }}{{ end }}",
    # syntax errors
    "{{", "{{ 1", "}}", "{{ }}", "{{ foo }}", "{{ $y }}", '{{ "abc }}', "{{ `abc }}", "{{ 'ab' }}", "{{ '' }}",
    "{{ 3x }}", "{{ 1 | 2 }}", '{{ "x".Foo }}', "{{ 1.Foo }}", "{{ (1 }}", "{{ 1) }}", "{{ # }}", "{{ @ }}",
    "{{ a.b }}", "{{ .a-b }}", "{{ $x := }}", "{{ $x, $y := 1 }}", "{{ := 1 }}", "{{ x := 1 }}", '{{ "\\q" }}',
    '{{ "\\400" }}', "{{ 1 2 }}", "{{ .X 1 }}", "{{ $ 1 }}", "{{ 1 | upper | }}", "{{ | upper }}", "{{ (upper) }}",
    "{{ upper }}", "{{ (.X).Y }}", "{{ (nil).Y }}", '{{ ("a").Y }}', "{{/* unclosed }}", "{{/* a */ x }}",
    "{{ 1i }}", "{{ 1+2i }}", "{{ 0x }}", "{{ .5 }}", "{{ 5. }}", "{{ +5 }}", "{{ 1e }}", "{{ 0x1p-2 }}",
]  # fmt: skip

# Their output depends on the moment or on randomness, so the random corpus leaves them out.
CLOCK_FUNCS = ("uuid", "isotime", "strftime", "timestamp")

ISOTIME_LAYOUTS = [
    "", "2006-01-02", "Mon Jan _2 15:04:05 MST 2006", "January 2, 2006 3:04 PM", "06 1 2 3 4 5 pm PM",
    "002 __2 _2 02", "-07:00 Z07:00 -0700 Z0700 -07 Z07 -070000 Z07:00:00", ".000 ,000 .999 .000000 .9",
    "20060102150405", "Monday Mon January Jan", "Janx Monx MSTx", "_2006 2006_ 15h04", "T15:04:05.000000Z07:00",
]  # fmt: skip


def _run_console(tmp_path: Path, lines: list[str]) -> list[tuple[bool, str]]:
    """(is_error, text) for each input line, from one ``packer console`` run."""
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"variables": USER_VARS, "builders": [{"type": "null", "communicator": "none"}]}))
    proc = run_packer(
        "-machine-readable",
        "console",
        str(template),
        stdin="".join(line + "\n" for line in lines),
        cwd=tmp_path,
        timeout=120,
    )
    results = parse_console_records(proc.stdout)
    assert len(results) == len(lines), proc.stdout + proc.stderr
    return results


def parse_console_records(stdout: str) -> list[tuple[bool, str]]:
    """(is_error, text) for each answer of a ``-machine-readable console`` run (errors unwrapped)."""
    records = []
    for raw in stdout.splitlines():
        parts = raw.split(",", 4)
        if len(parts) == 5 and parts[2] == "ui":
            text = parts[4].replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n").replace("\\r", "\r")
            records.append(text)
    prefix = "???????: Interpolation error\n\n"
    results = []
    it = iter(records)
    for text in it:
        if text.startswith(prefix):
            results.append((True, " ".join(text[len(prefix) :].split("\n")).strip()))
            assert next(it, None) == "", "console follows each error with an empty line"
        else:
            results.append((False, text))
    return results


def _ours(text: str, ctx: RenderContext) -> tuple[bool, str]:
    try:
        return False, render(text, ctx)
    except RenderError as exc:
        return True, " ".join(str(exc).split("\n")).strip()


def _normalize_parse_error(message: str) -> str:
    """Drop our added column from parse errors (Packer prints ``template: root:LINE: msg``)."""
    if "executing" in message:
        return message
    head, sep, rest = message.partition(": ")
    if head != "template":
        return message
    where, sep2, msg = rest.partition(": ")
    parts = where.split(":")
    if len(parts) == 3:
        where = ":".join(parts[:2])
    return f"{head}{sep}{where}{sep2}{msg}"


def _random_expressions(seed: int, count: int) -> list[str]:
    """Token soups and mutated valid expressions, one line each, reproducible from ``seed``."""
    rng = random.Random(seed)
    # Real and escaped newlines are left out: console reads lines, and its machine-readable
    # output writes a newline as a backslash and an n.
    vocab = [v for v in VOCABULARY if "\n" not in v and "\\n" not in v and v not in CLOCK_FUNCS]
    out: list[str] = []
    while len(out) < count:
        if rng.random() < 0.5:
            text = "{{ " + "".join(rng.choice(vocab) for _ in range(rng.randint(1, 12))) + " }}"
        else:
            text = rng.choice(VALID)
            for _ in range(rng.randint(1, 3)):
                i = rng.randint(0, len(text))
                j = min(len(text), i + rng.randint(0, 5))
                action = rng.choice(["delete", "insert", "duplicate"])
                if action == "delete":
                    text = text[:i] + text[j:]
                elif action == "insert":
                    text = text[:i] + rng.choice(vocab) + text[i:]
                else:
                    text = text[:j] + text[i:j] + text[j:]
        text = text.replace("\n", " ")
        if text.strip() and not any(f in text for f in CLOCK_FUNCS):
            out.append(text)
    return out


EXPECTED = Path(__file__).parent / "expected" / "engine_console.json"
DIR = "<DIR>"  # the directory of the template and the working directory, in recordings


def _all_expressions() -> list[str]:
    return EXPRESSIONS + _random_expressions(seed=7, count=2000)


def _ours_in(tmp_path: Path, expressions: list[str]) -> list[tuple[bool, str]]:
    """Our results, run as the console runs: template in ``tmp_path``, which is also the cwd."""
    ctx = RenderContext(user_vars=USER_VARS, template_path=str(tmp_path / "t.json"))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        results = [_ours(e, ctx) for e in expressions]
    finally:
        os.chdir(old)
    return [(err, _normalize_parse_error(text) if err else text) for err, text in results]


def _with_placeholder(results: list[tuple[bool, str]], tmp_path: Path) -> list[tuple[bool, str]]:
    return [(err, text.replace(str(tmp_path), DIR)) for err, text in results]


def _disagreements(expressions: list[str], theirs: list[tuple[bool, str]], mine: list[tuple[bool, str]]) -> list[str]:
    out = []
    for expr, their, my in zip(expressions, theirs, mine, strict=True):
        if their != my:
            out.append(f"{expr!r}\n   packer: {their[1]!r}\n   ours:   {my[1]!r}")
    return out


def test_expressions_agree_with_recorded_packer(tmp_path: Path) -> None:
    """Runs everywhere: our engine against Packer 1.6.6's recorded answers."""
    recorded = json.loads(EXPECTED.read_text())
    expressions = [case[0] for case in recorded["cases"]]
    theirs = [(bool(case[1]), str(case[2])) for case in recorded["cases"]]
    mine = _with_placeholder(_ours_in(tmp_path, expressions), tmp_path)
    bad = _disagreements(expressions, theirs, mine)
    print(f"engine vs recorded packer console: {len(expressions) - len(bad)}/{len(expressions)} agree")
    assert not bad, "\n".join(bad)


def test_live_packer_matches_recording_and_engine(need_packer: None, tmp_path: Path) -> None:
    """With Packer installed: its live answers equal the recording and our engine's.
    ``RECORD_ENGINE_EXPECTED=1`` rewrites the recording."""
    expressions = _all_expressions()
    live = _with_placeholder(_run_console(tmp_path, expressions), tmp_path)
    if os.environ.get("RECORD_ENGINE_EXPECTED") == "1":
        rows = [
            json.dumps([e, err, text], ensure_ascii=False) for e, (err, text) in zip(expressions, live, strict=True)
        ]
        EXPECTED.write_text('{"packer": "1.6.6", "cases": [\n' + ",\n".join(rows) + "\n]}\n")
    recorded = json.loads(EXPECTED.read_text())
    assert [case[0] for case in recorded["cases"]] == expressions, (
        "stale recording: rerun with RECORD_ENGINE_EXPECTED=1"
    )
    assert [(bool(c[1]), c[2]) for c in recorded["cases"]] == live
    mine = _with_placeholder(_ours_in(tmp_path, expressions), tmp_path)
    bad = _disagreements(expressions, live, mine)
    print(f"engine vs live packer console: {len(expressions) - len(bad)}/{len(expressions)} agree")
    assert not bad, "\n".join(bad)


def test_time_functions_agree_with_packer(need_packer: None, tmp_path: Path) -> None:
    probe = '{{ isotime "2006-01-02T15:04:05.000000Z07:00" }}'
    lines = [probe, "{{ timestamp }}"]
    lines += [f'{{{{ isotime "{layout}" }}}}' if layout else "{{ isotime }}" for layout in ISOTIME_LAYOUTS]
    letters = string.ascii_letters
    lines += ['{{ strftime "' + "|".join(f"%{c}" for c in letters) + '|%%|%" }}', '{{ strftime "2006 %Y" }}']
    theirs = _run_console(tmp_path, lines)
    init = datetime.strptime(theirs[0][1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    ctx = RenderContext(user_vars={}, init_time=init)
    mine = [_ours(line, ctx) for line in lines]
    assert mine == theirs

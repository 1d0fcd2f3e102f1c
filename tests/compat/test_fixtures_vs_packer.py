"""imagesmith's validate / inspect / console against Packer 1.6.6 on every JSON fixture template.

Packer's outcome is recorded in ``expected/<case>.json`` (``tests/compat/record_packer.py``);
when ``packer`` is installed the recording is re-checked live. Agreement means: the same exit
code, and

* on failure, every error Packer reports is reported by imagesmith too (Packer's wording,
  after stripping its numbering such as ``builder 2:``; imagesmith adds file:line:col and may
  report more problems, since Packer stops at the first failing stage);
* on success, the same output lines (machine-readable timestamps aside; Go map order is random,
  so lines are compared as sorted lists) — except ``validate``, where Packer 1.6.6 prints nothing
  and imagesmith says ``The configuration is valid.``.

Each deliberate disagreement is listed in KNOWN_DIFFERENCES with its reason, and in
tests/compat/DIFFERENCES.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.compat.batches import Batched
from tests.compat.fixture_cases import Case, all_cases, load_expected, template_files
from tests.conftest import FIXTURES, packer_available, run_packer

pytestmark = pytest.mark.compat

CASES = all_cases()

#: case id → why imagesmith deliberately differs (mirrored in DIFFERENCES.md).
KNOWN_DIFFERENCES: dict[str, str] = {}


def _run(argv: list[str], case: Case) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", **case.env}
    return subprocess.run(
        argv, input=case.stdin, capture_output=True, text=True, cwd=case.cwd, env=env, timeout=600, check=False
    )


#: every case through imagesmith once, a batch at a time (each is a real process; see batches.py).
IMAGESMITH = Batched(CASES, lambda c: c.id, lambda c: _run([sys.executable, "-m", "imagesmith", *c.argv], c))


# --- what counts as "the same" ---------------------------------------------------------------

_DROP = [
    re.compile(r"^Failed to (initialize|prepare) build:? \".*\"$"),
    re.compile(r"^\d+ errors? occurred:$"),
    re.compile(r"^\d+ error\(s\) decoding:$"),
    re.compile(r"^Warning: .*"),
    re.compile(r"^$"),
]
_PREFIX = re.compile(
    r"^(builder \d+: |provisioner \d+: |post-processor \d+(\.\d+)?: |variable \S+: |Error decoding provisioner: )+"
)


def _unescape_machine(field: str) -> str:
    return field.replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n").replace("\\r", "\r")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def packer_errors(output: str) -> list[str]:
    """The individual error messages in Packer's output, without its numbering and wrappers."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    if re.match(r"\d+,[^,]*,ui,", text):  # machine-readable: the messages of the ui,error lines
        errors = [line.split(",ui,error,", 1)[1] for line in text.splitlines() if ",ui,error," in line]
        text = "\n".join(_unescape_machine(e) for e in errors)
    text = re.sub(r"^Warning: [^\n]*\n\n[^\n]*\n", "", text, flags=re.M)
    text = re.sub(r"At line \d+, column \d+ \(offset \d+\):.*", "", text, flags=re.S)
    items = re.split(r"\n\s*\* |\n\n|^Error: |^Failed to parse template: |\nError: ", text, flags=re.M)
    out = []
    for item in items:
        item = _squash(item)
        item = re.sub(r"^(Failed to parse template: |Error: )", "", item)
        item = _PREFIX.sub("", item)
        item = re.sub(r"^'[^']*':? (?=expected|source data)", "", item)
        item = re.sub(r"^unknown configuration key: '(.*)'$", r"unknown configuration key: \1", item)
        item = re.sub(r"^(Failed to interpolate \"[^\"]*\").*", r"\1", item)
        if not any(p.match(item) for p in _DROP):
            out.append(item)
    return out


def _lines(text: str, machine: bool) -> list[str]:
    lines = text.splitlines()
    if machine:
        lines = [line.split(",", 1)[1] if "," in line else line for line in lines]
    return sorted(line.rstrip() for line in lines if line.strip())


def disagreements(case: Case, packer: dict[str, object], ours: subprocess.CompletedProcess[str]) -> list[str]:
    """Why imagesmith's outcome for ``case`` differs from Packer's (empty: they agree)."""
    problems = []
    if ours.returncode != packer["rc"]:
        problems.append(f"exit code {ours.returncode}, Packer {packer['rc']}")
    p_out, p_err = str(packer["stdout"]), str(packer["stderr"])
    our_text = _squash(_unescape_machine(ours.stdout) + "\n" + ours.stderr)
    if "Traceback" in ours.stderr:
        problems.append("traceback:\n" + ours.stderr)
    if packer["rc"] != 0:
        for message in packer_errors(p_out + "\n" + p_err):
            if message not in our_text:
                problems.append(f"Packer reports {message!r}, imagesmith does not")
        return problems
    if case.verb == "validate" and "-syntax-only" not in case.argv:
        return problems
    machine = "-machine-readable" in case.argv
    if _lines(p_out, machine) != _lines(ours.stdout, machine):
        problems.append(f"stdout differs:\nPacker:\n{p_out}\nimagesmith:\n{ours.stdout}")
    return problems


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_agrees_with_recorded_packer(case: Case) -> None:
    expected = load_expected(case)
    assert expected is not None, f"no recording for {case.id}: run tests/compat/record_packer.py"
    ours = IMAGESMITH[case.id]
    found = disagreements(case, expected["packer"], ours)  # type: ignore[arg-type]
    if case.id in KNOWN_DIFFERENCES:
        assert found, f"{case.id} now agrees with Packer: remove it from KNOWN_DIFFERENCES"
        return
    assert not found, "\n".join(found) + f"\n--- imagesmith stdout:\n{ours.stdout}\n--- stderr:\n{ours.stderr}"


def test_agreement_count() -> None:
    """Print the agreement count (pytest -s shows it); every case is either agreeing or known."""
    results = IMAGESMITH.all()
    agree = sum(
        1
        for case in CASES
        if (exp := load_expected(case)) is not None and not disagreements(case, exp["packer"], results[case.id])  # type: ignore[arg-type]
    )
    files, not_applicable = template_files()
    print(
        f"\ncompat: {agree}/{len(CASES)} cases agree with Packer 1.6.6 "
        f"({len(files)} JSON templates; {len(not_applicable)} HCL/var files not applicable; "
        f"{len(KNOWN_DIFFERENCES)} known differences)"
    )
    assert agree + len(KNOWN_DIFFERENCES) == len(CASES)


@pytest.fixture(scope="module")
def live_packer() -> None:
    if not packer_available():
        pytest.skip("packer not installed: recorded expectations only")


#: every 7th case by default; IMAGESMITH_COMPAT_FULL=1 re-checks them all (about 40 s of Packer).
LIVE = CASES if os.environ.get("IMAGESMITH_COMPAT_FULL") == "1" else CASES[::7]


@pytest.mark.parametrize("case", LIVE, ids=[c.id for c in LIVE])
def test_recording_still_matches_live_packer(case: Case, live_packer: None) -> None:
    """The recordings, re-run live: the recorded data must be Packer's real behaviour."""
    if case.file == "command/hcl2_upgrade_basic/input.json" and case.verb == "inspect":
        pytest.skip("Packer hides aws_region as <sensitive> or not depending on Go map order (see DIFFERENCES.md)")
    expected = load_expected(case)
    assert expected is not None
    live = run_packer(*case.argv, stdin=case.stdin, cwd=case.cwd, env=case.env, timeout=120)
    recorded = expected["packer"]
    assert live.returncode == recorded["rc"]  # type: ignore[index]
    machine = "-machine-readable" in case.argv
    assert _lines(live.stdout, machine) == _lines(str(recorded["stdout"]), machine)  # type: ignore[index]


def test_fixture_paths_exist() -> None:
    assert (FIXTURES / "template").is_dir()


def test_comparison_catches_disagreements() -> None:
    """The comparison itself must be able to fail: wrong exit code, missing error, different output."""
    case = next(c for c in CASES if c.id == "template_parse-builder-no-type__validate")
    packer = {
        "rc": 1,
        "stdout": "Failed to parse template: 1 error occurred:\n\t* builder 1: missing 'type'\n\n",
        "stderr": "",
    }
    assert packer_errors(str(packer["stdout"])) == ["missing 'type'"]

    def ours(rc: int, out: str = "", err: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], rc, out, err)

    assert disagreements(case, packer, ours(1, err="Error: t.json:3:5: builders[0]: missing 'type'\n")) == []
    assert disagreements(case, packer, ours(0))
    assert disagreements(case, packer, ours(1, err="Error: something else\n"))
    inspect = next(c for c in CASES if c.id == "template_parse-basic__inspect")
    assert disagreements(inspect, {"rc": 0, "stdout": "a\nb\n", "stderr": ""}, ours(0, "b\na\n")) == []
    assert disagreements(inspect, {"rc": 0, "stdout": "a\nb\n", "stderr": ""}, ours(0, "a\nc\n"))

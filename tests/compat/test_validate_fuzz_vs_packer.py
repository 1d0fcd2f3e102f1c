"""Differential fuzzing: random templates through ``packer validate`` and ``imagesmith validate``.

Both must agree on success or failure (Packer crashing, as it does on ``"builders": [null]``, is
not held against imagesmith). Random template-shaped documents go through ``-syntax-only``;
well-formed templates with random plugin configs (null, shell-local, file, shell, sleep,
compress, checksum, manifest) go through the full validate; random chains of variables (with
``-var``, self-references, ``{{ .X }}``, failing functions) through ``console`` (the ``variables``
dump must be the same) and ``validate``.

Hypothesis runs derandomized, so the inputs are the same on every run, and Packer's answers to them
are recorded (``python tests/compat/record_packer.py --answers``, in tests/compat/expected/packer-answers):
the fuzz tests compare with the recordings, and ask the live Packer only for an input with no
recording. ``test_recordings_still_match_live_packer`` re-runs a fixed sample of ten live.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.packer_oracle import ANSWERS, call_from_recording, recorded_or_live, replay, run_packer
from tests.unit.test_template_fuzz import templates, well_formed

pytestmark = pytest.mark.compat
#: fewer examples in the nested run under the crashing packer (test_compat_survives_packer_crashes.py)
EXAMPLES = int(os.environ.get("IMAGESMITH_FUZZ_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _outcomes(doc: dict[str, Any], where: Path, *flags: str) -> tuple[int, str, int, str]:
    path = where / "t.json"
    path.write_text(json.dumps(doc))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    theirs = recorded_or_live("validate", *flags, path.name, cwd=where)
    ours = subprocess.run(
        [sys.executable, "-m", "imagesmith", "validate", *flags, path.name],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return theirs.returncode, theirs.stdout + theirs.stderr, ours.returncode, ours.stdout + ours.stderr


def _assert_agree(doc: dict[str, Any], where: Path, *flags: str) -> None:
    packer_rc, packer_out, our_rc, our_out = _outcomes(doc, where, *flags)
    assert "Traceback" not in our_out
    if "PACKER CRASH" in packer_out:
        assert our_rc == 1, our_out
        return
    detail = f"{json.dumps(doc)}\nPacker ({packer_rc}):\n{packer_out}\nimagesmith ({our_rc}):\n{our_out}"
    assert our_rc == packer_rc, detail


@SETTINGS
@given(templates)
def test_syntax_only_agrees_with_packer(tmp_path: Path, need_packer: None, doc: dict[str, Any]) -> None:
    _assert_agree(doc, tmp_path, "-syntax-only")


@SETTINGS
@given(well_formed)
def test_full_validate_agrees_with_packer(tmp_path: Path, need_packer: None, doc: dict[str, Any]) -> None:
    _assert_agree(doc, tmp_path)


VALUES = [
    "x", "", "{{user `a`}}", "{{user `b`}}-{{user `c`}}", "{{user `zz`}}", "{{ .Foo }}", "{{user `d`}}{{ .HTTPIP }}",
    "{{upper `q`}}", "{{ nosuch }}", "{{user `a`}}{{user `a`}}", "{{ user `b` }}", "{{user \"c\"}}", "{{build_name}}",
    "{{lower (user `a`)}}",
]  # fmt: skip
variable_sets = st.tuples(
    st.dictionaries(st.sampled_from("abcd"), st.none() | st.sampled_from(VALUES), min_size=1),
    st.dictionaries(st.sampled_from("abcd"), st.sampled_from(["cli", "{{user `a`}}!", "{{user `b`}}"]), max_size=2),
)


def _console_and_validate(prog: list[str], args: list[str], where: Path) -> tuple[list[str], int]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    run = {"cwd": where, "env": env, "capture_output": True, "text": True, "check": False}
    if prog == ["packer"]:
        console = recorded_or_live("console", *args, "t.json", stdin="variables\n", cwd=where)
        validate = recorded_or_live("validate", *args, "t.json", cwd=where)
    else:
        console = subprocess.run([*prog, "console", *args, "t.json"], input="variables\n", **run)  # type: ignore[call-overload]
        validate = subprocess.run([*prog, "validate", *args, "t.json"], **run)  # type: ignore[call-overload]
    return sorted(line for line in console.stdout.splitlines() if line.strip()), validate.returncode


@SETTINGS
@given(variable_sets)
def test_variables_agree_with_packer(
    tmp_path: Path, need_packer: None, case: tuple[dict[str, str | None], dict[str, str]]
) -> None:
    variables, cli = case
    doc = {"variables": variables, "builders": [{"type": "null", "communicator": "none"}]}
    (tmp_path / "t.json").write_text(json.dumps(doc))
    args = [arg for key, value in cli.items() for arg in ("-var", f"{key}={value}")]
    theirs = _console_and_validate(["packer"], args, tmp_path)
    ours = _console_and_validate([sys.executable, "-m", "imagesmith"], args, tmp_path)
    assert ours == theirs, f"{json.dumps(variables)} {cli}"


@SETTINGS
@given(templates)
def test_inspect_agrees_with_packer(tmp_path: Path, need_packer: None, doc: dict[str, Any]) -> None:
    """Same exit code and, on success, the same lines (sorted: Packer lists required variables in random
    order). Without sensitive-variables, where Packer's own output is random (see DIFFERENCES.md)."""
    doc.pop("sensitive-variables", None)
    (tmp_path / "t.json").write_text(json.dumps(doc))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    outcomes = []
    for prog in (["packer"], [sys.executable, "-m", "imagesmith"]):
        result = (
            recorded_or_live("inspect", "t.json", cwd=tmp_path)
            if prog == ["packer"]
            else subprocess.run(
                [*prog, "inspect", "t.json"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
            )
        )
        lines = sorted(line.rstrip() for line in result.stdout.splitlines() if line.strip())
        outcomes.append((result.returncode, lines if result.returncode == 0 else [], result.stdout + result.stderr))
    (packer_rc, packer_lines, packer_out), (our_rc, our_lines, our_out) = outcomes
    if "PACKER CRASH" in packer_out:
        return
    assert (our_rc, our_lines) == (packer_rc, packer_lines), f"{json.dumps(doc)}\n{packer_out}\n{our_out}"


#: how many recorded fuzz answers are re-checked against the live Packer on each run
LIVE_SAMPLE = 10


def _fuzz_recordings() -> list[dict[str, Any]]:
    """Every recorded answer made by this module's fuzz tests, in a fixed order."""
    found = []
    for path in sorted(ANSWERS.glob("*.json")):
        data = json.loads(path.read_text())
        if str(data.get("test", "")).startswith(f"{__name__.replace('.', '/')}.py::test_"):
            found.append(data)
    return found


def _projection(rc: int, stdout: str) -> tuple[int, list[str]]:
    """What the fuzz tests compare: the exit code, and the sorted lines of a successful answer."""
    return rc, sorted(line.rstrip() for line in stdout.splitlines() if line.strip()) if rc == 0 else []


def test_recordings_still_match_live_packer(need_packer: None, tmp_path: Path) -> None:
    """A fixed sample of the recorded fuzz answers, asked of the live Packer again: the recordings must
    be Packer's real behaviour (exit code, and the sorted lines of a successful answer)."""
    recordings = _fuzz_recordings()
    assert len(recordings) >= 100, "the fuzz answers are not recorded: python tests/compat/record_packer.py --answers"
    sample = recordings[:: len(recordings) // LIVE_SAMPLE][:LIVE_SAMPLE]
    for n, data in enumerate(sample):
        where = tmp_path / str(n)
        call = call_from_recording(data, where)
        live = run_packer(*call.args, stdin=call.stdin, cwd=call.cwd, env=call.env, crash_ok=True)
        recorded = replay(call, data)
        assert _projection(live.returncode, live.stdout) == _projection(recorded.returncode, recorded.stdout), (
            f"{call.shown}: live Packer differs from the recording\n--- live:\n{live.stdout}{live.stderr}"
        )

"""Every template function in every field Packer renders at run time: imagesmith vs Packer 1.6.6.

The answers of Packer 1.6.6 are recorded in ``expected/runtime_render.json`` (re-record with
``tests/compat/record_runtime_render.py``); a few cases are re-checked against live Packer.
Time-dependent functions (timestamp, isotime, strftime, uuid, the run UUID) compare by shape.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.compat.batches import Batched
from tests.compat.runtime_render_cases import CASES, Case, load_expected, run_case, same_answer
from tests.conftest import run_cli, run_packer

LIVE = ("template_dir-runtime", "build_ID-prepared", "user-runtime", "packer_version-prepared", "dot_ID-docker")


def _run(case: Case, runner: object) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="rr-") as tmp:
        return run_case(case, Path(tmp) / case.id, runner)  # type: ignore[arg-type]


#: every case run once through imagesmith, a batch at a time (each run is a separate process).
IMAGESMITH = Batched(CASES, lambda c: c.id, lambda c: _run(c, run_cli))


def _need_tools(case: Case, request: pytest.FixtureRequest) -> None:
    if case.group == "docker":
        request.getfixturevalue("need_docker")


def _compare(case: Case, ours: dict[str, str], packers: dict[str, str]) -> list[str]:
    problems = []
    for field in sorted(set(ours) | set(packers)):
        mine, theirs = ours.get(field, "<missing>"), packers.get(field, "<missing>")
        if not same_answer(mine, theirs, case.function):
            problems.append(f"{case.id} {field}:\n  imagesmith: {mine!r}\n  packer:     {theirs!r}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_runtime_render_matches_recorded_packer(case: Case, request: pytest.FixtureRequest) -> None:
    _need_tools(case, request)
    expected = load_expected()
    assert case.id in expected, f"no recording for {case.id}: run tests/compat/record_runtime_render.py"
    problems = _compare(case, IMAGESMITH[case.id], expected[case.id])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case_id", LIVE)
def test_runtime_render_matches_live_packer(case_id: str, need_packer: None, request: pytest.FixtureRequest) -> None:
    case = next(c for c in CASES if c.id == case_id)
    _need_tools(case, request)
    problems = _compare(case, IMAGESMITH[case.id], _run(case, run_packer))
    assert not problems, "\n".join(problems)


def test_recording_covers_every_case() -> None:
    assert sorted(load_expected()) == sorted(c.id for c in CASES)

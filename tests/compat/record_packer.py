"""Record Packer 1.6.6's answers, which the compatibility tests compare imagesmith with.

``python tests/compat/record_packer.py`` (needs ``packer`` 1.6.6 on PATH) records each fixture case
(tests/compat/fixture_cases.py) into ``expected/<id>.json``: the command, Packer's exit code, stdout
and stderr.

``python tests/compat/record_packer.py --answers [PYTEST ARGS...]`` runs the tests (by default the
compat tier and the docker differential test) with ``IMAGESMITH_RECORD_PACKER=1``: every Packer call
made through tests/packer_oracle.py is recorded into ``expected/packer-answers/`` (a build with the
files it wrote). The fuzz tests answer from these recordings, and every test falls back on them when
Packer crashes twice in a row. With no PYTEST ARGS the old answers are removed first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.compat.fixture_cases import Case, all_cases, save_expected, template_files
from tests.packer_oracle import ANSWERS, RECORD_ENV, run_packer

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TESTS = ["tests/compat", "tests/integration/test_docker_vs_packer.py"]


def record_case(case: Case) -> dict[str, object]:
    env = {"PACKER_CONFIG_DIR": "/tmp/imagesmith-compat-packer", **case.env}
    done = run_packer(*case.argv, stdin=case.stdin, cwd=case.cwd, env=env, timeout=120)
    return {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def record_cases() -> int:
    cases = all_cases()
    files, not_applicable = template_files()
    for case in cases:
        save_expected(case, record_case(case))
    print(f"recorded {len(cases)} cases from {len(files)} JSON templates; {len(not_applicable)} files not applicable")
    return 0


def record_answers(pytest_args: list[str]) -> int:
    if not pytest_args:
        shutil.rmtree(ANSWERS, ignore_errors=True)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(pytest_args or DEFAULT_TESTS)]
    done = subprocess.run(argv, cwd=ROOT, env={**os.environ, RECORD_ENV: "1"}, check=False)
    print(f"{len(list(ANSWERS.glob('*.json')))} answers in {ANSWERS.relative_to(ROOT)}")
    return done.returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["--answers"]:
        return record_answers(argv[1:])
    return record_cases()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

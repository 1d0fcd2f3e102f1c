"""Record Packer 1.6.6's outcome for every compatibility case into tests/compat/expected/.

Run: ``python tests/compat/record_packer.py`` (needs ``packer`` 1.6.6 on PATH). Each case gets
``expected/<id>.json`` with the command, and Packer's exit code, stdout and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.compat.fixture_cases import all_cases, save_expected, template_files


def run_packer(case: object) -> dict[str, object]:
    from tests.compat.fixture_cases import Case

    assert isinstance(case, Case)
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_CONFIG_DIR": "/tmp/imagesmith-compat-packer", **case.env}
    proc = subprocess.run(
        ["packer", *case.argv],
        input=case.stdin,
        capture_output=True,
        text=True,
        cwd=case.cwd,
        env=env,
        timeout=120,
    )
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


def main() -> int:
    cases = all_cases()
    files, not_applicable = template_files()
    for case in cases:
        save_expected(case, run_packer(case))
    print(f"recorded {len(cases)} cases from {len(files)} JSON templates; {len(not_applicable)} files not applicable")
    return 0


if __name__ == "__main__":
    sys.exit(main())

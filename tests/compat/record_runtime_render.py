"""Record Packer 1.6.6's run-time rendering answers into tests/compat/expected/runtime_render.json.

Run: ``python tests/compat/record_runtime_render.py [case-id ...]`` (needs ``packer`` 1.6.6 on PATH;
null and file builders only, so nothing but local files is touched). See runtime_render_cases.py.
"""

from __future__ import annotations

import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.compat.runtime_render_cases import CASES, EXPECTED, Case, run_case
from tests.conftest import run_packer


def record(case: Case) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="rr-") as tmp:
        return run_case(case, Path(tmp) / case.id, run_packer)


def main(ids: list[str]) -> int:
    chosen = [c for c in CASES if not ids or c.id in ids]
    known = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    with ThreadPoolExecutor(4) as pool:
        for case, answers in zip(chosen, pool.map(record, chosen), strict=True):
            known[case.id] = answers
    EXPECTED.write_text(json.dumps(dict(sorted(known.items())), indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(chosen)} cases into {EXPECTED}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

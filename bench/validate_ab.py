"""Benchmark: ``imagesmith validate`` of this checkout against another imagesmith source tree.

For a change that may cost start-up time (the entry-point registry, the per-run scope), time both
trees in the same run, alternating, each a fresh process on the same templates as
``bench/validate.py`` (1 and 100 null builds sharing 50 shell-local provisioners). The other tree
is put first on ``PYTHONPATH`` (make it with ``git archive <commit> src | tar -x -C DIR``). Reports
the median and minimum of wall time and of the child's CPU time (user + system), which a loaded
machine disturbs less than wall time.

Run: ``python bench/validate_ab.py --baseline DIR/src [--rounds 30] [--sizes 1,100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate import make_template


def time_once(template: Path, pythonpath: str | None) -> tuple[float, float]:
    """(wall, cpu) seconds of one ``imagesmith validate`` process."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    argv = [sys.executable, "-m", "imagesmith", "validate", str(template)]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=template.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"validate failed under PYTHONPATH={pythonpath}: {proc.stderr.read() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the other tree's src directory")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sizes", default="1,100")
    args = parser.parse_args()
    trees = {"baseline": args.baseline, "this checkout": None}
    with tempfile.TemporaryDirectory(prefix="imagesmith-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            template = Path(tmp) / f"t{size}.json"
            template.write_text(json.dumps(make_template(size)))
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for i in range(args.rounds):
                order = list(trees) if i % 2 else list(reversed(trees))
                for name in order:
                    times[name].append(time_once(template, trees[name]))
            for name, runs in times.items():
                wall, cpu = [w for w, _ in runs], [c for _, c in runs]
                print(
                    f"{size:3d} builds, {name:13s}: wall median {statistics.median(wall) * 1000:5.0f} ms"
                    f" min {min(wall) * 1000:5.0f} | cpu median {statistics.median(cpu) * 1000:5.0f} ms"
                    f" min {min(cpu) * 1000:5.0f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

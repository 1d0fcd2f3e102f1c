"""Benchmark: ``imagesmith validate`` against ``packer validate``, and ``imagesmith version`` start-up.

Templates with 1, 10 and 100 null builds (``communicator: none``) sharing 50 shell-local
provisioners, so every build decodes 51 plugin configs. Both tools run in the same invocation,
alternating, each as a fresh process (the user's view). Packer starts a plugin process per
builder and provisioner of every build, which is where its time goes.

Packer keeps every plugin process alive until validate ends (about 9 MB each here), so 100 builds
would need about 5,100 processes and 45 GB of memory: this script runs Packer only where the
estimate fits in half of the available memory, and otherwise prints a linear extrapolation from
the largest size it did run (marked ``~``).

Run: ``python bench/validate.py [--repeat N] [--sizes 1,10,100] [--no-packer]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROVISIONERS = 50
PLUGIN_RSS_MB = 9  # measured: 2,600 Packer 1.6.6 plugin processes held 23 GB


def packer_fits(builds: int) -> bool:
    """Whether Packer's plugin processes for ``builds`` builds fit in half the available memory."""
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        return builds <= 10
    available_kb = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemAvailable:"))
    return builds * (1 + PROVISIONERS) * PLUGIN_RSS_MB * 1024 < available_kb / 2


def make_template(builds: int) -> dict[str, object]:
    return {
        "variables": {"greeting": "hello", "who": "{{user `greeting`}} world"},
        "builders": [{"type": "null", "name": f"build-{i:03d}", "communicator": "none"} for i in range(builds)],
        "provisioners": [
            {"type": "shell-local", "inline": [f"echo {{{{user `who`}}}} {n} {{{{build_name}}}}"]}
            for n in range(PROVISIONERS)
        ],
    }


def time_command(argv: list[str], cwd: Path) -> float:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--no-packer", action="store_true", help="time imagesmith only")
    args = parser.parse_args()
    imagesmith = [sys.executable, "-m", "imagesmith"]
    packer = shutil.which("packer") if not args.no_packer else None
    with tempfile.TemporaryDirectory(prefix="imagesmith-bench-") as tmp:
        work = Path(tmp)
        version = [time_command([*imagesmith, "version"], work) for _ in range(max(5, args.repeat))]
        median, best = statistics.median(version) * 1000, min(version) * 1000
        print(f"imagesmith version: median {median:.0f} ms, best {best:.0f} ms")
        print(f"{'builds':>6} {'imagesmith':>12} {'packer':>12} {'ratio':>8}")
        per_build: tuple[int, float] | None = None
        for size in (int(s) for s in args.sizes.split(",")):
            path = work / f"t{size}.json"
            path.write_text(json.dumps(make_template(size), indent=1))
            ours, theirs = [], []
            run_packer = packer is not None and packer_fits(size)
            for _ in range(args.repeat):
                ours.append(time_command([*imagesmith, "validate", path.name], work))
                if run_packer:
                    theirs.append(time_command([str(packer), "validate", path.name], work))
            mine = statistics.median(ours)
            if theirs:
                other = statistics.median(theirs)
                per_build = (size, other)
                print(f"{size:>6} {mine:>11.3f}s {other:>11.3f}s {other / mine:>7.1f}x")
            elif packer and per_build:
                other = per_build[1] / per_build[0] * size
                estimate = "~" + format(other, ".1f")
                note = f"Packer would need {size * (1 + PROVISIONERS)} plugin processes; from {per_build[0]} builds"
                print(f"{size:>6} {mine:>11.3f}s {estimate:>11}s {other / mine:>7.1f}x  ({note})")
            else:
                print(f"{size:>6} {mine:>11.3f}s {'-':>12} {'-':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

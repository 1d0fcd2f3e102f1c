"""Engine overhead: a null build with N shell-local provisioners, imagesmith vs Packer 1.6.6.

Each provisioner runs ``true``, so the wall time is almost all engine cost (plugin start-up,
provisioner wrapping, temp scripts, process spawning, output). Both tools run the same template
in the same run, alternately, ``--repeat`` times; the medians and their ratio are printed.

    python bench/overhead.py [--provisioners 200] [--repeat 3]
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


def make_template(count: int) -> dict[str, object]:
    return {
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": ["true"]} for _ in range(count)],
    }


def time_build(argv: list[str], template: Path) -> float:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    start = time.perf_counter()
    done = subprocess.run([*argv, "build", "-color=false", str(template)], capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{done.stdout.decode()}\n{done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--provisioners", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tools = {"imagesmith": [sys.executable, "-m", "imagesmith"]}
    if shutil.which("packer"):
        tools["packer"] = ["packer"]
    times: dict[str, list[float]] = {name: [] for name in tools}
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "overhead.json"
        template.write_text(json.dumps(make_template(args.provisioners)))
        for _ in range(args.repeat):
            for name, argv in tools.items():
                times[name].append(time_build(argv, template))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"null build, {args.provisioners} shell-local provisioners, {args.repeat} runs each, {os.cpu_count()} CPUs")
    for name, value in medians.items():
        per = value / args.provisioners * 1000
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"  {name:<10} median {value:6.2f} s  ({per:.1f} ms/provisioner; runs: {runs})")
    if "packer" in medians:
        print(f"  ratio packer/imagesmith: {medians['packer'] / medians['imagesmith']:.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark the build farm: throughput on 1 and on 2 workers, and the farm's own cost per build.

In one run, with a private redis-server on 127.0.0.1 and real ``imagesmith worker`` processes
(concurrency 1 each, on this machine):

* I/O-bound: 6 null builds whose shell-local provisioner sleeps ``--sleep`` seconds, sent by one
  ``imagesmith build -executor=...``; wall time on 1 worker, then on 2 (goal: 2 workers >= 1.8x);
* overhead: the same one-build template run locally (``imagesmith build``) and on the farm (a warm
  worker), alternating; the farm's cost per build is the difference of the medians (goal < 0.3 s),
  i.e. queueing, bundle transfer, the worker's child process hand-off and log streaming;
* CPU-bound: 6 builds that each burn ``--cpu-loops`` of Python arithmetic; 1 vs 2 workers, with the
  load average before and after (no goal: the machine has 2 cores and is shared).

Usage: ``python bench/farm.py [--sleep 3] [--rounds 5] [--cpu-loops 20000000]``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.farm_support import Farm, Worker, running_farm, wait_for, write_template  # noqa: E402

BUILDS = 6


def template(directory: Path, lines: list[str], count: int) -> Path:
    names = [f"b{i}" for i in range(count)]
    raw = {
        "builders": [{"type": "null", "name": name, "communicator": "none"} for name in names],
        "provisioners": [{"type": "shell-local", "inline": lines}],
    }
    return write_template(directory, raw)


def timed(argv: list[str], cwd: Path) -> float:
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=1800)
    took = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {argv}\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return took


def start_ready(farm: Farm, name: str) -> Worker:
    worker = farm.start_worker(name)
    wait_for(lambda: "ready." in worker.text(), f"worker {name} to be ready", 300)
    return worker


def farm_run(farm: Farm, path: Path) -> float:
    return timed(farm.command(str(path)), path.parent)


def local_run(path: Path) -> float:
    return timed([sys.executable, "-m", "imagesmith", "build", str(path)], path.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu-loops", type=int, default=20_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp, running_farm(Path(tmp) / "farm") as farm:
        base = Path(tmp)
        io6 = template(base / "io6", [f"sleep {args.sleep}"], BUILDS)
        one = template(base / "one", [f"sleep {args.sleep}"], 1)
        burn = f"python3 -c 'x=0\nfor i in range({args.cpu_loops}): x+=i*i'"
        cpu6 = template(base / "cpu6", [burn], BUILDS)
        start_ready(farm, "w1")
        farm_run(farm, one)  # warm-up: the worker's pool and caches
        local, remote = [], []
        for _ in range(args.rounds):
            local.append(local_run(one))
            remote.append(farm_run(farm, one))
        io_1 = farm_run(farm, io6)
        load_1 = os.getloadavg()[0]
        cpu_1 = farm_run(farm, cpu6)
        load_1b = os.getloadavg()[0]
        start_ready(farm, "w2")
        farm_run(farm, one)
        io_2 = farm_run(farm, io6)
        load_2 = os.getloadavg()[0]
        cpu_2 = farm_run(farm, cpu6)
        load_2b = os.getloadavg()[0]
    overhead = statistics.median(remote) - statistics.median(local)
    print(f"one build, local : median {statistics.median(local):.2f} s  {[round(t, 2) for t in local]}")
    print(f"one build, farm  : median {statistics.median(remote):.2f} s  {[round(t, 2) for t in remote]}")
    print(f"farm overhead per build: {overhead:.2f} s (goal < 0.3 s)")
    print(f"I/O-bound {BUILDS} builds x sleep {args.sleep}: 1 worker {io_1:.2f} s, 2 workers {io_2:.2f} s, "
          f"throughput ratio {io_1 / io_2:.2f}x (goal >= 1.8x)")  # fmt: skip
    print(f"  per build on 1 worker beyond its sleep: {(io_1 / BUILDS) - args.sleep:.2f} s")
    print(f"CPU-bound {BUILDS} builds: 1 worker {cpu_1:.2f} s (load {load_1:.1f} -> {load_1b:.1f}), "
          f"2 workers {cpu_2:.2f} s (load {load_2:.1f} -> {load_2b:.1f}), ratio {cpu_1 / cpu_2:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

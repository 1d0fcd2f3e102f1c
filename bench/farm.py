#!/usr/bin/env python3
"""Benchmark the build farm: throughput on 1 and on 2 workers, and the farm's own cost per build.

In one run, with a private redis-server on 127.0.0.1 and real ``imagesmith worker`` processes
(concurrency 1 each, on this machine):

* I/O-bound: 6 null builds whose shell-local provisioner sleeps ``--sleep`` seconds, sent by one
  ``imagesmith build -executor=...``; wall time on 1 worker, then on 2 (goal: 2 workers >= 1.8x);
* overhead: a one-build template (``sleep 1``) run locally (``imagesmith build``) and on the farm (a
  warm worker), alternating; the farm's cost per build is the difference of the medians (goal
  < 0.3 s): the client's own process, queueing, bundle transfer, the worker's hand-off to the build's
  process, log streaming. Measured as wall time and as CPU time (the client's, plus everything the
  workers' process groups and the children they reaped used), which a loaded machine disturbs less;
* CPU-bound: 6 builds that each burn ``--cpu-loops`` of Python arithmetic; 1 vs 2 workers, with the
  load average before and after (no goal: the machine has 2 cores and is shared).

Usage: ``python bench/farm.py [--sleep 10] [--rounds 5] [--cpu-loops 5000000]``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def group_cpu(pgid: int) -> float:
    """CPU seconds used by a process group's members and the children they waited for (/proc/*/stat)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields: state ppid pgrp session ... utime(11) stime cutime cstime
            total += sum(int(v) for v in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def timed(argv: list[str], cwd: Path, workers: list[Worker] | None = None) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command plus (for a farm run) its workers' processes."""
    before_self = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = sum(group_cpu(w.proc.pid) for w in workers or [])
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=1800)
    took = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {argv}\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    after_self = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after_self.ru_utime - before_self.ru_utime + after_self.ru_stime - before_self.ru_stime
    cpu += sum(group_cpu(w.proc.pid) for w in workers or []) - before
    return took, cpu


def start_ready(farm: Farm, name: str) -> Worker:
    worker = farm.start_worker(name)
    wait_for(lambda: "ready." in worker.text(), f"worker {name} to be ready", 300)
    return worker


def farm_run(farm: Farm, path: Path) -> tuple[float, float]:
    return timed(farm.command(str(path)), path.parent, farm.workers)


def local_run(path: Path) -> tuple[float, float]:
    return timed([sys.executable, "-m", "imagesmith", "build", str(path)], path.parent)


def median(runs: list[tuple[float, float]], which: int) -> float:
    return statistics.median(r[which] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu-loops", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp, running_farm(Path(tmp) / "farm") as farm:
        base = Path(tmp)
        io6 = template(base / "io6", [f"sleep {args.sleep}"], BUILDS)
        one = template(base / "one", ["sleep 1"], 1)
        burn = f"python3 -c 'x=0\nfor i in range({args.cpu_loops}): x+=i*i'"
        cpu6 = template(base / "cpu6", [burn], BUILDS)
        start_ready(farm, "w1")
        farm_run(farm, one)  # warm-up: the worker's pool and caches
        local, remote = [], []
        for _ in range(args.rounds):
            local.append(local_run(one))
            remote.append(farm_run(farm, one))
        io_1 = farm_run(farm, io6)[0]
        loads = [os.getloadavg()[0]]
        cpu_1 = farm_run(farm, cpu6)[0]
        loads.append(os.getloadavg()[0])
        start_ready(farm, "w2")
        farm_run(farm, one)
        io_2 = farm_run(farm, io6)[0]
        loads.append(os.getloadavg()[0])
        cpu_2 = farm_run(farm, cpu6)[0]
        loads.append(os.getloadavg()[0])
    report(args, local, remote, (io_1, io_2), (cpu_1, cpu_2), loads)


def report(args: argparse.Namespace, local: list[tuple[float, float]], remote: list[tuple[float, float]],
           io: tuple[float, float], cpu: tuple[float, float], loads: list[float]) -> None:  # fmt: skip
    print(f"load average during the run: {' / '.join(f'{v:.1f}' for v in loads)}")
    for label, runs in (("local", local), ("farm ", remote)):
        walls = [round(r[0], 2) for r in runs]
        print(f"one build (sleep 1), {label}: wall median {median(runs, 0):.2f} s {walls}, "
              f"CPU median {median(runs, 1):.2f} s")  # fmt: skip
    print(f"farm overhead per build: wall {median(remote, 0) - median(local, 0):.2f} s, "
          f"CPU {median(remote, 1) - median(local, 1):.2f} s (goal < 0.3 s)")  # fmt: skip
    print(f"I/O-bound {BUILDS} builds x sleep {args.sleep}: 1 worker {io[0]:.2f} s, 2 workers {io[1]:.2f} s, "
          f"throughput ratio {io[0] / io[1]:.2f}x (goal >= 1.8x)")  # fmt: skip
    print(f"CPU-bound {BUILDS} builds x {args.cpu_loops} loops: 1 worker {cpu[0]:.2f} s, 2 workers {cpu[1]:.2f} s, "
          f"ratio {cpu[0] / cpu[1]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark amazon-ebs builds: imagesmith against Packer 1.6.6, both against moto in the same run.

Each round starts a fresh moto server per tool (in its own loopback-only network namespace, see
tests/integration/test_amazon_harness.py), runs the same template with ``imagesmith build`` and
``packer build`` (Packer also gets ``custom_endpoint_ec2`` and ``skip_region_validation``, which it
needs to reach moto), and records the wall time of the build command and the number of API
requests moto received. moto answers at once and changes states immediately, so the difference is
start-up, request overhead and, above all, how the waits poll. Each region's moto backend is
warmed up before the timed build (moto builds it on the first request, which takes seconds).
"build s" is the tool's own "finished after" time (start-up and template loading excluded); "CPU s" is the
user+system time of the build command and its children (less sensitive to a shared machine's load).
Needs root, moto[server] and packer. Not part of the test suite. Usage: ``python bench/amazon.py [--rounds 3]``.

A second table breaks down the AWS SDK's start-up cost, each row in a fresh interpreter (no
server needed): importing botocore, then making the first EC2 client from botocore's full model
and from imagesmith's trimmed, cached model (``builders/amazon/models.py``), cold and warm.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.test_amazon_ebs import EXAMPLE  # noqa: E402
from tests.integration.test_amazon_harness import ENDPOINT, start_moto  # noqa: E402

CASES: dict[str, dict[str, Any]] = {
    "example": EXAMPLE,
    "copies+tags": {**EXAMPLE, "ami_regions": ["eu-west-1", "us-east-2"], "tags": {"Base": "{{ .SourceAMIName }}"},
                    "snapshot_tags": {"Kind": "snapshot"}},
    "encrypt_boot": {**EXAMPLE, "encrypt_boot": True},
}  # fmt: skip
TOOLS = {
    "imagesmith": [sys.executable, "-m", "imagesmith", "build"],
    "packer": ["packer", "build"],
}


_FINISHED = re.compile(r"finished after (?:(\d+) minutes? )?(?:(\d+) seconds? )?(\d+) milliseconds?")


def build_seconds(output: str) -> float:
    """The build's own time as the tool reports it ("finished after 1 second 235 milliseconds")."""
    found = _FINISHED.search(output)
    if found is None:
        return float("nan")
    minutes, seconds, millis = (int(g or 0) for g in found.groups())
    return minutes * 60 + seconds + millis / 1000


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compile_imagesmith() -> None:
    """Write imagesmith's bytecode once, as an installed package has it (``pip install`` compiles
    site-packages; the editable checkout would otherwise be compiled from source on every run when
    PYTHONDONTWRITEBYTECODE is set, as in this project's sessions: measured 3.5 s vs 6.8 s wall)."""
    import compileall

    compileall.compile_dir(str(ROOT / "src" / "imagesmith"), quiet=1)


def run_once(workdir: Path, tool: str, builder: dict[str, Any]) -> tuple[float, float, int, float]:
    server = start_moto(workdir / "moto")
    try:
        if tool == "packer":
            builder = {**builder, "custom_endpoint_ec2": ENDPOINT, "skip_region_validation": True}
        template = workdir / "template.json"
        template.write_text(json.dumps({"builders": [builder]}))
        for region in ["us-west-1", *builder.get("ami_regions", [])]:  # moto loads a region's backend lazily
            server.ec2("describe_instances", region)
            server.ec2("describe_images", region, ImageIds=["ami-21055220"])
        server.reset_recording()
        cpu = cpu_of_children()
        started = time.monotonic()
        result = server.run([*TOOLS[tool], str(template)], cwd=workdir)
        seconds = time.monotonic() - started
        cpu = cpu_of_children() - cpu
        if result.returncode != 0:
            raise SystemExit(f"{tool} failed:\n{result.stdout}\n{result.stderr}")
        return seconds, build_seconds(result.stdout), len(server.calls()), cpu
    finally:
        server.stop()


_STARTUP = """
import sys, tempfile, time
t0 = time.perf_counter()
import botocore.session
t1 = time.perf_counter()
session = botocore.session.Session()
if sys.argv[1] != "full":
    from imagesmith.builders.amazon.models import TrimmedLoader
    session.register_component("data_loader", TrimmedLoader(__import__("pathlib").Path(sys.argv[2])))
session.set_credentials("AK", "SK")
session.create_client("ec2", region_name="us-west-1", endpoint_url="http://127.0.0.1:9")
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def startup_costs(rounds: int) -> dict[str, tuple[float, float]]:
    """Median (import s, first EC2 client s) per way of loading the model, fresh interpreters."""
    import subprocess

    out: dict[str, list[tuple[float, float]]] = {"full model": [], "trimmed, cold cache": [],
                                                 "trimmed, warm cache": []}  # fmt: skip
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            for label, mode in (("full model", "full"), ("trimmed, cold cache", "trim"),
                                ("trimmed, warm cache", "trim")):  # fmt: skip
                line = subprocess.run([sys.executable, "-c", _STARTUP, mode, cache], capture_output=True, text=True,
                                      check=True, cwd=ROOT).stdout.split()  # fmt: skip
                out[label].append((float(line[0]), float(line[1])))
    return {k: (statistics.median(a for a, _ in v), statistics.median(b for _, b in v)) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    compile_imagesmith()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows: list[tuple[str, list[float], int, int]] = []
    for case, builder in CASES.items():
        times: dict[str, list[float]] = {t: [] for t in TOOLS}
        inner: dict[str, list[float]] = {t: [] for t in TOOLS}
        cpus: dict[str, list[float]] = {t: [] for t in TOOLS}
        calls: dict[str, int] = {}
        for round_ in range(args.rounds):
            order = list(TOOLS) if round_ % 2 == 0 else list(reversed(TOOLS))
            for tool in order:
                with tempfile.TemporaryDirectory() as tmp:
                    seconds, build, count, cpu = run_once(Path(tmp), tool, builder)
                times[tool].append(seconds)
                cpus[tool].append(cpu)
                inner[tool].append(build)
                calls[tool] = count
        med = {t: statistics.median(v) for t, v in times.items()}
        bmed = {t: statistics.median(v) for t, v in inner.items()}
        cmed = {t: statistics.median(v) for t, v in cpus.items()}
        medians = [med[t] for t in ("packer", "imagesmith")] + [bmed[t] for t in ("packer", "imagesmith")]
        medians += [cmed[t] for t in ("packer", "imagesmith")]
        rows.append((case, medians, calls["packer"], calls["imagesmith"]))
    print(f"amazon-ebs against moto, median of {args.rounds} rounds (wall s of the build command)")
    header = ["case", "packer wall s", "imagesmith wall s", "packer build s", "imagesmith build s", "packer CPU s",
              "imagesmith CPU s", "packer calls", "imagesmith calls"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case, values, packer_calls, our_calls in rows:
        cells = [case, *(f"{value:.2f}" for value in values), packer_calls, our_calls]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print()
    print(f"AWS SDK start-up, median of {args.rounds} fresh interpreters")
    print("| model | import botocore s | first EC2 client s |")
    print("|---|---:|---:|")
    for label, (imported, client) in startup_costs(args.rounds).items():
        print(f"| {label} | {imported:.2f} | {client:.2f} |")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

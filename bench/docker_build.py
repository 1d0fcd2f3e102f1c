"""Benchmark: a docker build with 30 inline shell provisioners, a directory of 2,000 small files and one
300 MB file uploaded, then committed. Wall time of imagesmith, Packer 1.6.6 and a plain shell script
issuing the equivalent docker commands, alternating in the same run.

    python bench/docker_build.py [--repeat 3] [--big-mb 300] [--small-files 2000]

Prints a markdown table of medians (and every run). Needs dockerd, packer and the local base image
(scripts/fixtures/docker-base-image.sh). Each run's image is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "imagesmith-test/busybox:latest"
STEPS = 30


def make_inputs(work: Path, small_files: int, big_mb: int) -> tuple[Path, Path]:
    small = work / "small"
    for i in range(small_files):
        sub = small / f"d{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:04d}.txt").write_bytes(os.urandom(64 + (i * 37) % 2000))
    big = work / "big.bin"
    with open(big, "wb") as out:
        for _ in range(big_mb):
            out.write(os.urandom(1 << 20))
    return small, big


def inline_lines(step: int) -> list[str]:
    lines = [f"echo step {step}", f"echo {step} > /var/tmp/step{step}"]
    if step == 0:
        lines.append("mkdir -p /data")
    return lines


def make_template(work: Path, small: Path, big: Path) -> Path:
    provisioners: list[dict[str, object]] = [{"type": "shell", "inline": inline_lines(i)} for i in range(STEPS)]
    provisioners += [
        {"type": "file", "source": str(small), "destination": "/data/small"},
        {"type": "file", "source": str(big), "destination": "/data/big.bin"},
    ]
    template = {
        "builders": [{"type": "docker", "image": IMAGE, "pull": False, "commit": True}],
        "provisioners": provisioners,
    }
    path = work / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def make_script(work: Path, small: Path, big: Path) -> Path:
    """The plain shell script: the same work as the template, one docker command per action."""
    lines = [
        "#!/bin/sh",
        "set -e",
        f"cid=$(docker run -d -i -t --network none --entrypoint=/bin/sh -- {IMAGE})",
        "trap 'docker rm -f \"$cid\" >/dev/null' EXIT",
    ]
    for i in range(STEPS):
        body = "; ".join(inline_lines(i))
        lines.append(f'docker exec -i "$cid" /bin/sh -c {shlex.quote(body)}')
    lines += [
        f'docker cp {shlex.quote(str(small))} "$cid:/data/small"',
        f'docker cp {shlex.quote(str(big))} "$cid:/data/big.bin"',
        'docker commit "$cid"',
    ]
    path = work / "plain.sh"
    path.write_text("\n".join(lines) + "\n")
    return path


def image_of(output: str) -> str:
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) >= 6 and fields[2] == "artifact" and fields[4] == "id":
            return fields[5]
        if line.startswith("sha256:"):
            return line.strip()
    return ""


def timed(argv: list[str], cwd: Path) -> float:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    start = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    image = image_of(done.stdout)
    if image:
        subprocess.run(["docker", "rmi", image], capture_output=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=300)
    parser.add_argument("--small-files", type=int, default=2000)
    args = parser.parse_args()
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp:
        work = Path(tmp)
        small, big = make_inputs(work, args.small_files, args.big_mb)
        template = make_template(work, small, big)
        script = make_script(work, small, big)
        commands = {
            "imagesmith": [sys.executable, "-m", "imagesmith", "build", "-machine-readable", str(template)],
            "packer": ["packer", "build", "-machine-readable", str(template)],
            "script": ["sh", str(script)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():
                times[name].append(timed(argv, work))
                print(f"{name}: {times[name][-1]:.2f} s", file=sys.stderr)
    med = {name: statistics.median(values) for name, values in times.items()}
    load = os.getloadavg()[0]
    print("| tool | median | runs |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {med[name]:.2f} s | {', '.join(f'{v:.2f}' for v in values)} |")
    print(
        f"\nimagesmith / Packer = {med['imagesmith'] / med['packer']:.2f}x (goal <= 0.5x); "
        f"imagesmith / script = {med['imagesmith'] / med['script']:.2f}x (goal <= 1.3x); load average {load:.1f}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: docker builds timed for imagesmith, Packer 1.6.6 and a plain shell script of the equivalent
docker CLI commands, taking turns in the same run.

* ``small``: two file provisioners (a file and a directory of 20 files), two inline shell provisioners,
  ``changes``, ``commit`` and a docker-tag post-processor;
* ``large``: 30 inline shell provisioners, a directory of 2,000 small files and one 300 MB file, ``commit``.

    python bench/docker_build.py [--repeat 5] [--only small|large] [--baseline-src OLD/src]

``--baseline-src`` also times imagesmith from another source tree (e.g. ``git archive`` of the base
commit) in the same rounds. Prints a markdown table of medians per template. Needs dockerd, packer and
the local base image (scripts/fixtures/docker-base-image.sh). Each run's image and tag are removed.
``bench/docker_floor.py`` splits the small build's time into the daemon's work and each client's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "imagesmith-test/busybox:latest"
TAG_REPO = "imagesmith-bench/small"
STEPS = 30
CHANGES = ["ENV APP_HOME=/srv/app", "WORKDIR /srv/app", 'CMD ["/bin/sh"]']
SMALL_SHELL = [["mkdir -p /srv/app", "echo one > /srv/app/one"], ["echo two > /srv/app/two", "ls /srv/app"]]


def make_large_inputs(work: Path, small_files: int, big_mb: int) -> tuple[Path, Path]:
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


def write_template(
    path: Path, builder: dict[str, object], provisioners: list[dict[str, object]], **extra: object
) -> Path:
    template = {"builders": [builder], "provisioners": provisioners, **extra}
    path.write_text(json.dumps(template, indent=2))
    return path


def make_large(work: Path, small_files: int, big_mb: int) -> tuple[Path, Path]:
    """The large template and its plain script: one docker command per action."""
    small, big = make_large_inputs(work, small_files, big_mb)
    provisioners: list[dict[str, object]] = [{"type": "shell", "inline": inline_lines(i)} for i in range(STEPS)]
    provisioners += [
        {"type": "file", "source": str(small), "destination": "/data/small"},
        {"type": "file", "source": str(big), "destination": "/data/big.bin"},
    ]
    builder = {"type": "docker", "image": IMAGE, "pull": False, "commit": True}
    template = write_template(work / "large.json", builder, provisioners)
    lines = ["#!/bin/sh", "set -e", f"cid=$(docker run -d -i -t --network none --entrypoint=/bin/sh -- {IMAGE})"]
    lines.append("trap 'docker rm -f \"$cid\" >/dev/null' EXIT")
    for i in range(STEPS):
        lines.append(f'docker exec -i "$cid" /bin/sh -c {shlex.quote("; ".join(inline_lines(i)))}')
    lines += [
        f'docker cp {shlex.quote(str(small))} "$cid:/data/small"',
        f'docker cp {shlex.quote(str(big))} "$cid:/data/big.bin"',
        'docker commit "$cid"',
    ]
    script = work / "large.sh"
    script.write_text("\n".join(lines) + "\n")
    return template, script


def make_small(work: Path) -> tuple[Path, Path]:
    """The small template (files, shell, changes, docker-tag) and its plain script."""
    conf = work / "app.conf"
    conf.write_text("key=value\n")
    tree = work / "site"
    tree.mkdir()
    for i in range(20):
        (tree / f"page{i:02d}.html").write_text(f"<p>{i}</p>\n")
    provisioners: list[dict[str, object]] = [
        {"type": "shell", "inline": SMALL_SHELL[0]},
        {"type": "file", "source": str(conf), "destination": "/srv/app/app.conf"},
        {"type": "file", "source": str(tree), "destination": "/srv/app/site"},
        {"type": "shell", "inline": SMALL_SHELL[1]},
    ]
    builder = {"type": "docker", "image": IMAGE, "pull": False, "commit": True, "changes": CHANGES}
    tag = {"type": "docker-tag", "repository": TAG_REPO, "tags": ["latest"]}
    template = write_template(work / "small.json", builder, provisioners, **{"post-processors": [tag]})
    changes = " ".join(f"--change {shlex.quote(c)}" for c in CHANGES)
    lines = [
        "#!/bin/sh",
        "set -e",
        f"cid=$(docker run -d -i -t --network none --entrypoint=/bin/sh -- {IMAGE})",
        "trap 'docker rm -f \"$cid\" >/dev/null' EXIT",
        f'docker exec -i "$cid" /bin/sh -c {shlex.quote("; ".join(SMALL_SHELL[0]))}',
        f'docker cp {shlex.quote(str(conf))} "$cid:/srv/app/app.conf"',
        f'docker cp {shlex.quote(str(tree))} "$cid:/srv/app/site"',
        f'docker exec -i "$cid" /bin/sh -c {shlex.quote("; ".join(SMALL_SHELL[1]))}',
        f'id=$(docker commit {changes} "$cid")',
        f'docker tag "$id" {TAG_REPO}:latest',
        'echo "$id"',
    ]
    script = work / "small.sh"
    script.write_text("\n".join(lines) + "\n")
    return template, script


def image_of(output: str) -> str:
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) >= 6 and fields[2] == "artifact" and fields[4] == "id" and fields[5].startswith("sha256:"):
            return fields[5]
        if line.startswith("sha256:"):
            return line.strip()
    return ""


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and the client side's CPU time (user + system of the tool and its children, such as
    the docker CLI processes; the daemon's own work is not in it)."""
    for attempt in range(2):  # the daemon may be shared: another user's cleanup can kill a container
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
        elapsed = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode == 0:
            break
        output = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        print(f"{argv[0]} failed (attempt {attempt + 1}):\n{output}", file=sys.stderr)
    else:
        sys.exit(f"{argv[0]} failed twice")
    image = image_of(done.stdout)
    subprocess.run(["docker", "rmi", "-f", f"{TAG_REPO}:latest", *([image] if image else [])], capture_output=True)
    return elapsed, cpu


def make_commands(template: Path, script: Path, baseline: str | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    # Packer has no layer cache: imagesmith runs without its own (docs/layers.md), else every round
    # after the first would reuse the last layer and run no provisioner at all.
    own = {**env, "IMAGESMITH_CACHE": "off"}
    build = ["build", "-machine-readable", str(template)]
    commands = {
        "imagesmith": ([sys.executable, "-m", "imagesmith", *build], own),
        "packer": (["packer", *build], env),
        "script": (["sh", str(script)], env),
    }
    if baseline:
        base_env = {**own, "PYTHONPATH": str(Path(baseline).resolve())}
        commands["imagesmith (base)"] = ([sys.executable, "-m", "imagesmith", *build], base_env)
    return commands


def measure(name: str, commands: dict[str, tuple[list[str], dict[str, str]]], cwd: Path, repeat: int) -> None:
    times: dict[str, list[float]] = {tool: [] for tool in commands}
    cpus: dict[str, list[float]] = {tool: [] for tool in commands}
    order = list(commands)
    for round_ in range(repeat):
        for tool in order[round_ % len(order) :] + order[: round_ % len(order)]:  # rotate who goes first
            argv, env = commands[tool]
            wall, cpu = timed(argv, cwd, env)
            times[tool].append(wall)
            cpus[tool].append(cpu)
            print(f"{name} {tool}: {wall:.2f} s (client CPU {cpu:.2f} s)", file=sys.stderr)
    med = {tool: statistics.median(values) for tool, values in times.items()}
    print(f"\n### {name}\n\n| tool | median | client CPU (median) | runs |\n|---|---|---|---|")
    for tool, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {tool} | {med[tool]:.2f} s | {statistics.median(cpus[tool]):.2f} s | {runs} |")
    ratio: Callable[[str], str] = lambda other: f"{med['imagesmith'] / med[other]:.2f}x"  # noqa: E731
    line = f"\nimagesmith / Packer = {ratio('packer')}; imagesmith / script = {ratio('script')}"
    if "imagesmith (base)" in med:
        line += f"; imagesmith / imagesmith (base) = {ratio('imagesmith (base)')}"
    print(f"{line}; load average {os.getloadavg()[0]:.1f}")


def compile_bytecode(baseline: str | None) -> None:
    """Write imagesmith's (and its libraries') .pyc files first, as a pip install does: an editable
    checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile ~230 modules on every start
    (0.26 s measured), which is not what a user's installed imagesmith does."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    paths = [str(ROOT / "src"), *[p for p in sys.path if p.endswith("site-packages")]]
    paths += [baseline] if baseline else []
    subprocess.run([sys.executable, "-m", "compileall", "-q", *paths], env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["small", "large"])
    parser.add_argument("--big-mb", type=int, default=300)
    parser.add_argument("--small-files", type=int, default=2000)
    parser.add_argument("--baseline-src", help="another imagesmith source tree (its src/) to time as well")
    args = parser.parse_args()
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)
    compile_bytecode(args.baseline_src)
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp:
        work = Path(tmp)
        if args.only in (None, "small"):
            (work / "s").mkdir()
            template, script = make_small(work / "s")
            measure("small", make_commands(template, script, args.baseline_src), work / "s", args.repeat)
        if args.only in (None, "large"):
            (work / "l").mkdir()
            template, script = make_large(work / "l", args.small_files, args.big_mb)
            measure("large", make_commands(template, script, args.baseline_src), work / "l", args.repeat)


if __name__ == "__main__":
    main()

"""Benchmark: provisioner layers (docs/layers.md) on docker and qemu builds, beside Packer 1.6.6's rebuild.

The template has five shell provisioners, each standing for real work (``sleep WORK`` plus a file).
Its builder is docker (commits an image with ``changes``) or qemu (installs the test guest from its
ISO, TCG). Scenarios, each timed as a fresh ``imagesmith build``:

* ``full (cold cache)``: empty cache, every layer is built and saved;
* ``full (-cache=off)``: what the same build costs without layers (as Packer works);
* ``unchanged rebuild``: the same template again;
* ``last provisioner changed``: only the fifth provisioner's input differs;
* ``resume after failure``: provisioner 4 failed in the previous build; the script is fixed.

Packer 1.6.6 has no cache: each of its rebuilds is a full build, timed once per round.

    python bench/layers.py [--builder docker|qemu] [--repeat 3] [--work 2]

Needs packer, and dockerd with the local base image (scripts/fixtures/docker-base-image.sh) or
qemu with the test guest ISO (scripts/fixtures/test-guest-iso.sh). Containers run with
``--network none``, the guest's SSH forward binds 127.0.0.1; every image, output directory and
cache entry made is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMAGE = "imagesmith-test/busybox:latest"
RUN_COMMAND = ["-d", "-i", "-t", "--network", "none", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
ROOT = Path(__file__).resolve().parents[1]
GUEST = Path(os.environ.get("IMAGESMITH_TEST_GUEST_DIR", "/var/cache/imagesmith/test-guest"))
DOCKER: dict[str, object] = {
    "type": "docker", "image": IMAGE, "pull": False, "commit": True, "changes": ["ENV STEPS=5"],
    "run_command": RUN_COMMAND,
}  # fmt: skip


def qemu_builder(work: Path) -> dict[str, object]:
    """The test guest's install (tests/guest/packer-qemu.json's settings), output in ``work/out``."""
    iso = GUEST / "test-guest.iso"
    return {
        "type": "qemu", "iso_url": str(iso), "iso_checksum": f"file:{iso}.sha256",
        "output_directory": str(work / "out"), "vm_name": "guest.qcow2", "format": "qcow2", "disk_size": "512M",
        "accelerator": "tcg", "headless": True, "memory": 256, "http_directory": str(ROOT / "tests/guest/http"),
        "http_bind_address": "127.0.0.1", "boot_wait": "2s", "boot_key_interval": "10ms",
        "boot_command": ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
        "qemuargs": [["-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"],
                     ["-serial", "file:/dev/null"]],
        "communicator": "ssh", "ssh_username": "root", "ssh_password": "packer", "ssh_timeout": "10m",
        "shutdown_command": "shutdown -h now", "shutdown_timeout": "5m",
    }  # fmt: skip


def write_template(work: Path, seconds: int, builder: str = "docker") -> Path:
    provisioners: list[dict[str, object]] = [
        {"type": "shell", "inline": [f"sleep {seconds}", f"echo {i} > /step{i}"]} for i in (1, 2, 3)
    ]
    provisioners.append({"type": "shell", "script": str(work / "step4.sh")})
    provisioners.append({"type": "shell", "inline": [f"sleep {seconds}", "echo {{user `last`}} > /step5"]})
    template = {
        "variables": {"last": "five"},
        "builders": [DOCKER if builder == "docker" else qemu_builder(work)],
        "provisioners": provisioners,
    }
    path = work / "layers.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def set_step4(work: Path, seconds: int, fail: bool) -> None:
    body = f"sleep {seconds}\necho 4 > /step4\n" + ("exit 1\n" if fail else "")
    (work / "step4.sh").write_text(body)


def build(tool: list[str], template: Path, env: dict[str, str], *args: str, ok: bool = True) -> float:
    shutil.rmtree(template.parent / "out", ignore_errors=True)  # qemu's output_directory must not exist
    start = time.monotonic()
    done = subprocess.run([*tool, "build", *args, str(template)], capture_output=True, text=True, env=env)
    elapsed = time.monotonic() - start
    if (done.returncode == 0) != ok:
        sys.exit(f"{tool[-1]} build {' '.join(args)}: exit {done.returncode}\n{done.stdout[-3000:]}{done.stderr}")
    for image in re.findall(r"(sha256:[0-9a-f]{64})", done.stdout):
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True)
    return elapsed


def one_round(work: Path, template: Path, seconds: int, env: dict[str, str]) -> dict[str, float]:
    me = [sys.executable, "-m", "imagesmith"]
    cache_env = {**env, "IMAGESMITH_CACHE_DIR": str(work / "cache")}
    times: dict[str, float] = {}
    set_step4(work, seconds, fail=False)
    times["full (-cache=off)"] = build(me, template, env, "-cache=off")
    times["full (cold cache)"] = build(me, template, cache_env, "-cache=readwrite")
    times["unchanged rebuild"] = build(me, template, cache_env, "-cache=readwrite")
    times["last provisioner changed"] = build(
        me, template, cache_env, "-cache=readwrite", "-var", f"last={time.time()}"
    )
    subprocess.run([*me, "cache", "clear"], env=cache_env, capture_output=True, check=True)
    set_step4(work, seconds, fail=True)
    build(me, template, cache_env, "-cache=readwrite", ok=False)
    set_step4(work, seconds, fail=False)
    times["resume after failure"] = build(me, template, cache_env, "-cache=readwrite")
    subprocess.run([*me, "cache", "clear"], env=cache_env, capture_output=True, check=True)
    times["Packer 1.6.6 (every rebuild)"] = build(["packer"], template, env)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builder", choices=("docker", "qemu"), default="docker")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=int, default=2, help="seconds each provisioner works (sleep)")
    args = parser.parse_args()
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    runs: dict[str, list[float]] = {}
    start_load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as tmp:
        work = Path(tmp)
        template = write_template(work, args.work, args.builder)
        for _ in range(args.repeat):
            for name, value in one_round(work, template, args.work, env).items():
                runs.setdefault(name, []).append(value)
                print(f"{name}: {value:.2f} s", file=sys.stderr)
    packer = statistics.median(runs["Packer 1.6.6 (every rebuild)"])
    print(f"\n| {args.builder}: scenario ({args.work} s of work per provisioner) | median | / Packer rebuild | runs |")
    print("|---|---|---|---|")
    for name, values in runs.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} s | {med / packer:.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(
        f"\nload average (1, 5, 15 min) at the start {start_load}, at the end "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()

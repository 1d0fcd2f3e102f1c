"""Helpers for the configuration-management integration tests: the Debian image, the guest commands.

Packer 1.6.6 runs the docker CLI: :func:`recording_env` puts a ``docker`` wrapper first on PATH that
appends each call's argv to a log and then runs the real docker. imagesmith talks to the Engine API
instead and writes each exec's argv to its debug log (``+ docker exec argv: [...]``), which
:func:`build_with` points at a file. The guest commands a provisioner ran are the
``/bin/sh -c "(command)"`` execs (communicator housekeeping such as Packer's ``chown -R`` is not
wrapped in parentheses).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..conftest import ROOT, run_cli, run_packer
from .docker_support import image_listing

DEBIAN_IMAGE = "imagesmith-test/debian-cm:bookworm"
FIXTURE = ROOT / "scripts" / "fixtures" / "debian-cm-image.sh"
STANDINS = ROOT / "tests" / "standins" / "chef"
_NORMALISE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "UUID"),
    (re.compile(r"packer-provisioner-ansible-local\d+"), "packer-provisioner-ansible-localN"),
]
#: what tools write on every run (caches, logs with times, ansible's temp dirs): not compared
VOLATILE = (
    "var/cache/",
    "var/lib/puppet/",
    "var/log/salt",
    "root/.ansible",
    "root/.cache",
    "etc/salt/pki",
    "etc/puppet/ssl",
    "var/lib/apt/",
    "tmp/salt",
    "etc/salt/minion_id",  # the container's host name
)


def ensure_image() -> None:
    """Build (or find cached) the Debian test image; the script skips the work when it is up to date."""
    done = subprocess.run(["bash", str(FIXTURE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def recording_env(tmp: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``docker`` records every call into the returned log file."""
    real = shutil.which("docker")
    assert real is not None
    bindir = tmp / "recording-bin"
    bindir.mkdir()
    log = tmp / "docker-calls.log"
    wrapper = bindir / "docker"
    wrapper.write_text(f"#!/bin/sh\n{{ printf '%s\\0' \"$@\"; printf '\\036\\0'; }} >>'{log}'\nexec '{real}' \"$@\"\n")
    wrapper.chmod(0o755)
    import os

    return {"PATH": f"{bindir}:{os.environ['PATH']}"}, log


def read_calls(log: Path) -> list[list[str]]:
    calls: list[list[str]] = []
    current: list[str] = []
    for part in log.read_bytes().decode().split("\0")[:-1]:
        if part == "\x1e":
            calls.append(current)
            current = []
        else:
            current.append(part)
    return calls


_FACTS = re.compile(r"FACTER_\w+='[^']*'(?: FACTER_\w+='[^']*')*")


def normalise(text: str) -> str:
    """Replace UUIDs and temp names; sort puppet's facts (Packer passes them in Go map order)."""
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return _FACTS.sub(lambda m: " ".join(sorted(m.group(0).split(" "))), text)


def guest_commands(log: Path) -> list[str]:
    """The CM provisioners' commands (from the docker CLI log), in order, normalised (staging UUIDs,
    temp inventory names)."""
    return _provisioner_commands(argv for argv in read_calls(log) if len(argv) > 3 and argv[0] == "exec")


def guest_commands_from_debug_log(log: Path) -> list[str]:
    """The same, from imagesmith's debug log (``+ docker exec argv: [...]``)."""
    marker = "+ docker exec argv: "
    argvs = [json.loads(line.split(marker, 1)[1]) for line in log.read_text().splitlines() if marker in line]
    return _provisioner_commands(argvs)


def _provisioner_commands(argvs: Iterable[list[str]]) -> list[str]:
    out = []
    for argv in argvs:
        if len(argv) > 2 and argv[-2] == "-c":
            command = argv[-1]
            if command.startswith("(") and command.endswith(")"):
                out.append(normalise(command[1:-1]))
    return out


@dataclass
class Run:
    """One build: its output, the image it made, its guest commands and how long it took."""

    returncode: int
    output: str
    image: str
    commands: list[str]
    seconds: float


def artifact_id(output: str) -> str:
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) >= 6 and fields[2] == "artifact" and fields[4] == "id":
            return fields[5]
    return ""


def build_with(tool: str, template: Path, tmp: Path) -> Run:
    """Build ``template`` with ``imagesmith`` or ``packer`` from its directory, recording docker calls."""
    workdir = tmp / f"run-{tool}"
    workdir.mkdir()
    env, log = recording_env(workdir)
    runner = run_cli if tool == "imagesmith" else run_packer
    debug_log = workdir / "imagesmith-debug.log"
    if tool == "imagesmith":
        env |= {"IMAGESMITH_LOG": "1", "IMAGESMITH_LOG_PATH": str(debug_log)}
    start = time.monotonic()
    done = runner("build", "-machine-readable", str(template), cwd=template.parent, env=env, timeout=900)
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    if tool == "imagesmith":
        commands = guest_commands_from_debug_log(debug_log) if debug_log.exists() else []
    else:
        commands = guest_commands(log) if log.exists() else []
    return Run(done.returncode, output, artifact_id(done.stdout), commands, seconds)


def listing(image: str) -> dict[str, tuple[str, int, int, int, str]]:
    """The image's file tree without what changes on every run, with staging names normalised."""
    return {
        normalise(path): entry
        for path, entry in image_listing(image).items()
        if not path.startswith(VOLATILE) and not path.endswith(".pyc")
    }


def read_file(image: str, path: str) -> str:
    container = subprocess.run(
        ["docker", "create", image, "/bin/true"], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        done = subprocess.run(["docker", "cp", f"{container}:{path}", "-"], capture_output=True, check=True)
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        member = tar.next()
        assert member is not None
        data = tar.extractfile(member)
        assert data is not None
        return data.read().decode()


def remove_images(*images: str) -> None:
    for image in images:
        if image:
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True)

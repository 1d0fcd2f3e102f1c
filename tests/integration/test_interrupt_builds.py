"""Ctrl-C at 30 moments spread over a docker build and a null build with shell-local provisioners
(run in parallel by one template): every time imagesmith exits non-zero within 10 s, and leaves
no process (not even a zombie), container, listening port, temp file or partial export."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.docker_support import BASE_IMAGE
from tests.integration.leftovers import Run, run_build, start_build

pytestmark = pytest.mark.integration

MOMENTS = 30
SEED = 20261203
EXIT_WITHIN = 10.0


def write_template(tmp_path: Path) -> tuple[str, Path]:
    export = tmp_path / "export.tar"
    raw = {
        "builders": [
            {"type": "docker", "image": BASE_IMAGE, "pull": False, "export_path": str(export)},
            {"type": "null", "communicator": "none"},
        ],
        "provisioners": [
            {"type": "shell", "only": ["docker"], "inline": ["echo started", "sleep 1", "echo slept"]},
            {
                "type": "shell-local",
                "only": ["null"],
                # a background job that outlives its script: imagesmith must stop it and wait for it
                "inline": ["sleep 60 >/dev/null 2>&1 &", "sleep 1", "echo local-one"],
            },
            {"type": "shell-local", "only": ["null"], "inline": ["sleep 1", "echo local-two"]},
        ],
        "post-processors": [{"type": "shell-local", "only": ["null"], "inline": ["sleep 0.5"]}],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(raw))
    return str(path), export


def moments(total: float, count: int, seed: int) -> list[float]:
    """``count`` moments over ``[0.2, 0.95 * total]``, one at random in each of ``count`` equal slots,
    so every phase gets some (the first 0.2 s are Python's own start-up)."""
    rng = random.Random(seed)
    start, end = 0.2, max(0.95 * total, 0.3)
    width = (end - start) / count
    return [start + (i + rng.random()) * width for i in range(count)]


def interrupt_at(args: list[str], tmp_path: Path, delay: float) -> tuple[Run, float | None]:
    """Start a build, send SIGINT to imagesmith after ``delay`` s; the run and how long it took to exit."""
    proc, tmpdir, before, ports = start_build(args, tmp_path)
    time.sleep(delay)
    sent = None
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
    try:
        output, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        raise AssertionError(f"no exit 60 s after SIGINT at {delay:.2f} s:\n{output}") from None
    took = None if sent is None else time.monotonic() - sent
    return Run(proc.returncode, output, proc.pid, tmpdir, before, ports), took


def test_sigint_at_random_moments(need_docker: None, tmp_path: Path) -> None:
    template, export = write_template(tmp_path)
    baseline = run_build([template], tmp_path)
    assert baseline.returncode == 0, baseline.output
    assert export.exists(), baseline.output
    export.unlink()
    baseline.assert_clean()
    total = baseline.seconds
    finished_first = 0
    for i, delay in enumerate(moments(total, MOMENTS, SEED)):
        run, took = interrupt_at([template], tmp_path, delay)
        where = f"moment {i} ({delay:.2f} s of {total:.2f} s)"
        if took is None:  # the build beat the signal: nothing to interrupt, but nothing may be left
            finished_first += 1
            run.assert_clean()
            export.unlink(missing_ok=True)
            continue
        assert run.returncode != 0, f"{where}: exit 0\n{run.output}"
        assert took < EXIT_WITHIN, f"{where}: exited {took:.1f} s after SIGINT\n{run.output}"
        assert "Traceback" not in run.output, f"{where}\n{run.output}"
        # A build that finished before the signal keeps its (complete) artifact, as in Packer.
        run.assert_clean(absent=[] if "Build 'docker' finished" in run.output else [export])
        export.unlink(missing_ok=True)
    assert finished_first <= MOMENTS // 5, f"{finished_first} runs finished before their signal"

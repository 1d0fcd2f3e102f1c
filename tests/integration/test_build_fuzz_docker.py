"""Bad input at build time, docker builder: random and mutated provisioner and post-processor
configurations (shell, shell-local, file, breakpoint, sleep; docker-tag, docker-save, docker-import,
compress, checksum, manifest, artifice, vagrant, shell-local) through real docker builds of the local
test image (``pull: false``, ``--network none``). Same promises as test_build_fuzz_local.py, and no
container left behind. Fewer examples: each one starts a container.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_build_fuzz_local import (
    EXPLORE,
    check_outcome,
    note_outcome,
    post_processors,
    prepare_dir,
    provisioners,
    run_build,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

IMAGE = "imagesmith-test/busybox:latest"
FUZZ = settings(
    max_examples=EXPLORE or 80,
    derandomize=not EXPLORE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BUILDERS = [
    {"type": "docker", "image": IMAGE, "pull": False, "discard": True},
    {"type": "docker", "image": IMAGE, "pull": False, "commit": True},
    {"type": "docker", "image": IMAGE, "pull": False, "export_path": "image.tar"},
]
LABEL = "imagesmith-test=build-fuzz"  # tells this module's containers from other tests' (which run concurrently)
RUN = ["-d", "-i", "-t", "--network", "none", "--label", LABEL, "{{.Image}}", "/bin/sh"]


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def _containers() -> set[str]:
    return set(_docker("ps", "-aq", "--filter", f"label={LABEL}").split())


def _fuzz_images() -> set[str]:
    listing = _docker("images", "-q", "--filter", "reference=imagesmith-fuzz/*")
    return set(listing.split())


@pytest.fixture
def docker_dirs(tmp_path: Path, need_docker: None) -> Iterator[Any]:
    """A fresh directory per example; afterwards none of the examples' containers is left, and the images
    the examples made (docker-import, docker-tag, commit) are removed."""
    before = _containers()
    count = iter(range(1_000_000))
    yield lambda: tmp_path / f"run{next(count)}"
    assert _containers() - before == set(), "a build left a container behind"


def _remove_images(output: str) -> None:
    for image in _fuzz_images():
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, timeout=120)
    for word in output.split():
        if word.startswith("sha256:") and len(word) >= 71:
            subprocess.run(["docker", "rmi", "-f", word[:71]], capture_output=True, timeout=120)


@FUZZ
@given(
    provisioners(["shell", "file", "shell-local", "breakpoint", "sleep"]),
    post_processors(["docker-tag", "docker-save", "docker-import", "compress", "checksum", "manifest", "artifice"]),
    st.sampled_from(BUILDERS),
)
def test_docker_builds_report_every_error(
    docker_dirs: Any, capsys: pytest.CaptureFixture[str], provs: list[Any], pps: list[Any], builder: dict[str, Any]
) -> None:
    where = docker_dirs()
    prepare_dir(where)
    doc = {"builders": [{**builder, "run_command": RUN}], "provisioners": provs, "post-processors": pps}
    code, output = run_build(where, doc, capsys)
    _remove_images(output)
    note_outcome(code, output)
    check_outcome(doc, code, output)

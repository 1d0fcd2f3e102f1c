"""Provisioner layers on real docker builds: hit, miss, partial hit, resume, corruption, concurrency, Ctrl-C.

Each test has its own cache directory (``IMAGESMITH_CACHE_DIR``) and removes the images it made
(``imagesmith cache clear`` for the layers). The final image of a cached build is compared with a
``-cache=off`` build's, filesystem and config, with the differential helpers of docker_support.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT, run_cli
from .docker_support import BASE_IMAGE, docker, image_config, image_listing

pytestmark = [pytest.mark.integration]


class Project:
    """A template with five provisioners, its inputs and its cache directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = root / "cache"
        self.images: list[str] = []
        self.outputs: list[str] = []
        (root / "files").mkdir()
        (root / "files" / "a.txt").write_text("first upload\n")
        (root / "step4.sh").write_text("echo four > /l4\necho ran-four\n")
        self.write()

    def write(self, insert: dict[str, object] | None = None, big: bool = False) -> None:
        provisioners: list[dict[str, object]] = [
            {"type": "shell", "inline": [f"echo {self.root.name} > /l1", "echo ran-one"]},
            {"type": "file", "source": "files", "destination": "/tmp/files"},
            {"type": "shell", "inline": ["echo three > /l3", "echo ran-three"]},
            {"type": "shell", "script": "step4.sh"},
            {"type": "shell", "inline": ["echo {{user `last`}} > /l5", "echo ran-five"]},
        ]
        if big:
            provisioners[1] = {"type": "shell", "inline": ["dd if=/dev/urandom of=/big bs=1M count=64", "echo ran-big"]}
        if insert is not None:
            provisioners[2] = insert
        template = {
            "variables": {"last": "five"},
            "builders": [
                {
                    "type": "docker",
                    "image": BASE_IMAGE,
                    "pull": False,
                    "commit": True,
                    "changes": ["ENV LAYERS=yes", 'CMD ["/bin/sh"]'],
                }
            ],
            "provisioners": provisioners,
        }
        (self.root / "t.json").write_text(json.dumps(template))

    def env(self) -> dict[str, str]:
        return {"IMAGESMITH_CACHE_DIR": str(self.cache)}

    def build(self, *args: str, ok: bool = True) -> str:
        done = run_cli("build", "-cache=readwrite", *args, "t.json", cwd=self.root, env=self.env(), timeout=600)
        out = done.stdout + done.stderr
        self.outputs.append(out)
        self.images += re.findall(r"Image ID: (sha256:[0-9a-f]{64})", out)
        assert (done.returncode == 0) == ok, out
        return out

    def image(self, out: str) -> str:
        return re.findall(r"Image ID: (sha256:[0-9a-f]{64})", out)[-1]

    def entries(self) -> dict[int, dict[str, object]]:
        found = {}
        for path in (self.cache / "layers").glob("*/entry.json"):
            data = json.loads(path.read_text())
            found[int(data["position"])] = data
        return found


def layer_tags() -> set[str]:
    out = docker("images", "imagesmith-layers", "--format", "{{.Repository}}:{{.Tag}}").decode()
    return set(out.split())


def new_layer_tags(before: set[str], *outputs: str) -> set[str]:
    """Layer tags made since ``before`` by the builds whose output is given: a layer is a commit of
    the build's container, so other users of the daemon (who may build with a cache too) are left out."""
    ours = {c for out in outputs for c in re.findall(r"Container ID: ([0-9a-f]{64})", out)}
    made = set()
    for tag in layer_tags() - before:
        done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Container}}", tag], capture_output=True)
        if done.returncode == 0 and done.stdout.decode().strip() in ours:
            made.add(tag)
    return made


@pytest.fixture
def project(need_docker: None, tmp_path: Path) -> Iterator[Project]:
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)
    made = Project(tmp_path)
    try:
        yield made
    finally:
        run_cli("cache", "clear", env=made.env())
        for image in made.images:
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True)


def same_image(a: str, b: str) -> None:
    assert image_listing(a) == image_listing(b)
    assert image_config(a) == image_config(b)


def test_unchanged_rebuild_reuses_every_layer_and_makes_the_same_image(project: Project) -> None:
    first = project.build()
    assert "Reusing layer" not in first
    assert "Saving layer 5 (shell)..." in first
    second = project.build("-machine-readable")
    assert "Reusing layer 5/5 (cached " in second
    assert re.search(r",docker,layer-reused,5,5,[0-9a-f]{64},\d+", second)
    assert "ran-one" not in second and "ran-five" not in second
    scratch = project.build("-cache=off")
    assert "Reusing layer" not in scratch and "Saving layer" not in scratch
    same_image(project.image(second), project.image(scratch))
    same_image(project.image(first), project.image(scratch))
    assert image_config(project.image(second))["Env"] == image_config(project.image(scratch))["Env"]
    listing = image_listing(project.image(second))
    assert {"l1", "l3", "l4", "l5", "tmp/files/a.txt"} <= set(listing)


def test_changing_only_the_last_provisioner_reruns_only_it(project: Project) -> None:
    project.build()
    out = project.build("-var", "last=changed")
    assert "Reusing layer 4/5" in out
    assert "ran-five" in out and "ran-four" not in out and "ran-one" not in out
    scratch = project.build("-cache=off", "-var", "last=changed")
    same_image(project.image(out), project.image(scratch))


def test_a_changed_upload_reruns_from_its_provisioner(project: Project) -> None:
    project.build()
    (project.root / "files" / "a.txt").write_text("second upload\n")
    out = project.build()
    assert "Reusing layer 1/5" in out
    assert "ran-three" in out


def test_resume_after_a_failed_provisioner(project: Project) -> None:
    (project.root / "step4.sh").write_text("echo broken; exit 7\n")
    failed = project.build(ok=False)
    assert "exit status: 7" in failed
    assert sorted(project.entries()) == [1, 2, 3]  # what ran before the failure is kept
    (project.root / "step4.sh").write_text("echo four > /l4\necho ran-four\n")
    resumed = project.build()
    assert "Reusing layer 3/5" in resumed
    assert "ran-one" not in resumed and "ran-three" not in resumed and "ran-four" in resumed
    scratch = project.build("-cache=off")
    same_image(project.image(resumed), project.image(scratch))


def test_corrupted_entry_and_missing_image_are_ignored_with_a_warning(project: Project) -> None:
    tags_before = layer_tags()
    project.build()
    entries = project.entries()
    corrupted = project.cache / "layers" / str(entries[5]["key"]) / "entry.json"
    corrupted.write_text(corrupted.read_text().replace('"position": 5', '"position": 4'))
    docker("rmi", str(entries[4]["ref"]))
    out = project.build()
    assert f"Warning: ignoring corrupted cache entry {str(entries[5]['key'])[:12]}: checksum mismatch" in out
    assert "its data is missing" in out
    assert "Reusing layer 3/5" in out
    assert sorted(project.entries()) == [1, 2, 3, 4, 5]  # rewritten
    made = new_layer_tags(tags_before, *project.outputs)
    assert made == {str(e["ref"]) for e in project.entries().values()}  # none orphaned
    assert project.build().count("Reusing layer 5/5") == 1


def test_cache_modes_and_force(project: Project) -> None:
    off = project.build("-cache=off")
    assert "Saving layer" not in off and not project.entries()
    project.build()
    read_only = project.build("-cache=read", "-var", "last=other")
    assert "Reusing layer 4/5" in read_only and "Saving layer" not in read_only
    assert len(project.entries()) == 5
    forced = project.build("-force")
    assert "Reusing layer" not in forced and "ran-one" in forced


def test_a_non_cacheable_provisioner_ends_the_chain(project: Project) -> None:
    project.write(insert={"type": "shell-local", "inline": ["echo on-the-host"]})
    project.build()
    assert sorted(project.entries()) == [1, 2]
    out = project.build()
    assert "Reusing layer 2/5" in out
    assert "Layer 3/5 and later are not cached: shell-local" in out
    assert "ran-four" in out and "ran-five" in out
    project.write(insert={"type": "shell", "inline": ["echo opted-out"], "cache": False})
    out = project.build()
    assert "Reusing layer 2/5" in out and 'not cached: "cache": false' in out


def test_concurrent_builds_share_the_cache(project: Project) -> None:
    tags_before = layer_tags()
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", **project.env()}
    command = [sys.executable, "-m", "imagesmith", "build", "-cache=readwrite", "t.json"]
    procs = [
        subprocess.Popen(
            command, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outs = [proc.communicate(timeout=600)[0] for proc in procs]
    for proc, out in zip(procs, outs, strict=True):
        project.images += re.findall(r"Image ID: (sha256:[0-9a-f]{64})", out)
        assert proc.returncode == 0, out
    entries = project.entries()
    assert sorted(entries) == [1, 2, 3, 4, 5]
    assert new_layer_tags(tags_before, *outs) == {str(e["ref"]) for e in entries.values()}  # no stray snapshots
    assert "Reusing layer 5/5" in project.build()


def test_ctrl_c_during_a_layer_write_leaves_no_entry(project: Project) -> None:
    project.write(big=True)
    tags_before = layer_tags()
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", **project.env()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagesmith", "build", "-cache=readwrite", "t.json"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 600
    for line in proc.stdout:
        seen.append(line)
        if "Saving layer 2 (shell)..." in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)  # layer 2's commit (64 MB) is under way
    rest, _ = proc.communicate(timeout=300)
    out = "".join(seen) + rest
    assert proc.returncode == 1, out
    assert "Saving layer 2 (shell)..." in out
    entries = project.entries()
    assert 2 not in entries and sorted(entries) in ([], [1])
    assert list((project.cache / "tmp").iterdir()) == []
    assert new_layer_tags(tags_before, out) == {str(e["ref"]) for e in entries.values()}
    for container in re.findall(r"Container ID: ([0-9a-f]{64})", out):
        assert subprocess.run(["docker", "inspect", container], capture_output=True).returncode != 0


def test_cache_list_prune_and_clear(project: Project) -> None:
    project.build()
    listing = run_cli("cache", "list", env=project.env())
    assert listing.returncode == 0 and "5 entries" in listing.stdout, listing.stderr
    assert "layer 5 (shell)" in listing.stdout
    kept = run_cli("cache", "prune", "-older-than", "7d", env=project.env())
    assert kept.returncode == 0 and "Removed 0 of 5" in kept.stdout, kept.stderr
    pruned = run_cli("cache", "prune", "-max-size", "0", env=project.env())
    assert pruned.returncode == 0 and "Removed 5 of 5" in pruned.stdout, pruned.stderr
    assert not project.entries()
    bad = run_cli("cache", "prune", "-max-size", "lots", env=project.env())
    assert bad.returncode != 0 and 'invalid size "lots"' in bad.stderr and "Traceback" not in bad.stderr
    project.build()
    cleared = run_cli("cache", "clear", env=project.env())
    assert cleared.returncode == 0 and "Removed 5 of 5" in cleared.stdout
    assert not project.entries()

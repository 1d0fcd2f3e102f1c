"""Provisioner layers on real qemu builds of the test guest (TCG): miss, resume after a failure,
unchanged rebuild, last-provisioner change, corrupted and damaged entries.

One project (template, cache directory) serves the whole module, so the guest is installed once:
the first build fails at the 4th of 5 provisioners, every later build restores a saved layer. A
resumed build must continue in the same running guest (no boot command typed, no install), and
its output disk must hold every provisioner's mark, read back from the disk with debugfs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT, require_tool, run_cli

pytestmark = [pytest.mark.integration]

GUEST_DIR = Path(os.environ.get("IMAGESMITH_TEST_GUEST_DIR", "/var/cache/imagesmith/test-guest"))
ISO = GUEST_DIR / "test-guest.iso"
TYPED = "Typing the boot command"
RAN = re.compile(r"Provisioning with shell script: (\S+)")


def template(last: str) -> dict[str, object]:
    return {
        "variables": {"last": last},
        "builders": [
            {
                "type": "qemu", "iso_url": str(ISO), "iso_checksum": f"file:{ISO}.sha256",
                "output_directory": "out", "vm_name": "guest.qcow2", "format": "qcow2", "disk_size": "512M",
                "accelerator": "tcg", "headless": True, "memory": 256,
                "http_directory": str(ROOT / "tests/guest/http"), "http_bind_address": "127.0.0.1",
                "boot_wait": "2s", "boot_key_interval": "10ms",
                "boot_command": ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"],
                "qemuargs": [
                    ["-netdev", "user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"],
                    ["-serial", "file:/dev/null"],
                ],
                "ssh_username": "root", "ssh_password": "packer", "ssh_timeout": "10m",
                "shutdown_command": "shutdown -h now", "shutdown_timeout": "5m",
                "layer_restore_command": ["date > /root/restored"],
            }
        ],
        "provisioners": [
            {"type": "shell", "inline": ["echo one > /root/l1"]},
            {"type": "shell", "inline": ["echo two > /root/l2"]},
            {"type": "shell", "inline": ["echo three > /root/l3"]},
            {"type": "shell", "script": "step4.sh"},
            {"type": "shell", "inline": ["echo {{user `last`}} > /root/l5", "cat /root/l4"]},
        ],
    }  # fmt: skip


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = root / "cache"
        self.write("five", fail=True)

    def write(self, last: str, *, fail: bool = False) -> None:
        (self.root / "t.json").write_text(json.dumps(template(last)))
        (self.root / "step4.sh").write_text("echo four > /root/l4\n" + ("exit 3\n" if fail else ""))

    def build(self, *, ok: bool = True) -> str:
        shutil.rmtree(self.root / "out", ignore_errors=True)
        env = {"IMAGESMITH_CACHE_DIR": str(self.cache)}
        done = run_cli("build", "-cache=readwrite", "t.json", cwd=self.root, env=env, timeout=1800)
        out = done.stdout + done.stderr
        assert (done.returncode == 0) == ok, out
        leftovers = [p.name for p in (self.cache / "qemu").iterdir() if p.name.startswith(".")]
        assert leftovers == [], f"work files left in the cache: {leftovers}\n{out}"
        return out

    def entries(self) -> dict[int, dict[str, object]]:
        """The newest entry of each position (the current template's chain)."""
        found: dict[int, dict[str, object]] = {}
        for path in (self.cache / "layers").glob("*/entry.json"):
            entry = json.loads(path.read_text())
            position = int(entry["position"])
            if position not in found or float(entry["created"]) > float(str(found[position]["created"])):
                found[position] = entry
        return found

    def marks(self) -> list[str]:
        """``/root/l1`` ... ``/root/l5`` and ``/root/restored`` as the output disk holds them."""
        raw, part = self.root / "disk.raw", self.root / "root.img"
        subprocess.run(["qemu-img", "convert", "-O", "raw", str(self.root / "out/guest.qcow2"), str(raw)], check=True)
        with raw.open("rb") as src, part.open("wb") as dst:
            src.seek(2048 * 512)  # the root partition (tests/guest/http/ks.cfg)
            shutil.copyfileobj(src, dst)
        raw.unlink()
        try:
            names = ["l1", "l2", "l3", "l4", "l5", "restored"]
            return [self._cat(part, name) for name in names]
        finally:
            part.unlink()

    def _cat(self, part: Path, name: str) -> str:
        done = subprocess.run(["debugfs", "-R", f"cat /root/{name}", str(part)], capture_output=True, text=True)
        return done.stdout.strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    require_tool(shutil.which("qemu-system-x86_64") is not None, "needs qemu-system-x86_64")
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    require_tool(shutil.which("debugfs") is not None, "needs debugfs (e2fsprogs) to read the built disks")
    made = Project(tmp_path_factory.mktemp("layers-qemu"))
    try:
        yield made
    finally:
        run_cli("cache", "clear", env={"IMAGESMITH_CACHE_DIR": str(made.cache)})


def test_a_failure_at_the_4th_provisioner_resumes_there_in_the_saved_guest(project: Project) -> None:
    out = project.build(ok=False)
    assert TYPED in out and "Reusing layer" not in out
    assert "Script exited with non-zero exit status: 3" in out
    assert sorted(project.entries()) == [1, 2, 3]
    assert not (project.root / "out").exists()

    project.write("five")
    out = project.build()
    assert "Reusing layer 3/5" in out, out
    assert TYPED not in out  # no boot, no install: the guest continues from layer 3
    assert RAN.findall(out)[0] == "step4.sh" and len(RAN.findall(out)) == 2, out
    assert "Running layer_restore_command: date > /root/restored" in out
    assert sorted(project.entries()) == [1, 2, 3, 4, 5]
    marks = project.marks()
    assert marks[:5] == ["one", "two", "three", "four", "five"]
    assert marks[5], "the restore hook ran in the resumed guest"


def test_an_unchanged_rebuild_reuses_every_layer(project: Project) -> None:
    out = project.build()
    assert "Reusing layer 5/5" in out, out
    assert RAN.findall(out) == [] and TYPED not in out
    assert project.marks()[:5] == ["one", "two", "three", "four", "five"]
    layers = subprocess.run(["qemu-img", "info", str(project.root / "out/guest.qcow2")], capture_output=True, text=True)
    assert "backing file" not in layers.stdout  # the output disk stands alone


def test_changing_the_last_provisioner_reruns_only_that_one(project: Project) -> None:
    project.write("changed")
    out = project.build()
    assert "Reusing layer 4/5" in out, out
    assert len(RAN.findall(out)) == 1
    assert project.marks()[:5] == ["one", "two", "three", "four", "changed"]


def test_corrupted_and_damaged_entries_are_ignored_with_a_warning(project: Project) -> None:
    entries = project.entries()
    fifth, fourth = str(entries[5]["key"]), str(entries[4]["key"])
    corrupted = project.cache / "layers" / fifth / "entry.json"
    corrupted.write_text(corrupted.read_text().replace('"position": 5', '"position": 4'))
    ram = project.cache / "qemu" / str(entries[4]["ref"]) / "ram"
    with ram.open("r+b") as f:
        f.truncate(ram.stat().st_size // 2)  # a half-written memory file
    out = project.build()
    assert f"Warning: ignoring corrupted cache entry {fifth[:12]}: checksum mismatch" in out
    assert f"Warning: ignoring cache entry {fourth[:12]} of layer 4: its data is missing" in out
    assert "Reusing layer 3/5" in out
    assert project.marks()[:5] == ["one", "two", "three", "four", "changed"]
    assert sorted(project.entries()) == [1, 2, 3, 4, 5]


def test_ctrl_c_while_a_layer_is_saved_leaves_no_entry_half_written(project: Project) -> None:
    project.write("interrupted")
    shutil.rmtree(project.root / "out", ignore_errors=True)
    before = set((project.cache / "layers").iterdir())
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "IMAGESMITH_CACHE_DIR": str(project.cache)}
    log = project.root / "interrupted.log"
    with log.open("w") as out:
        argv = [sys.executable, "-m", "imagesmith", "build", "-cache=readwrite", "t.json"]
        proc = subprocess.Popen(argv, cwd=project.root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while "Saving layer 5" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=600) != 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "Saving layer 5" in text and "Cleanly cancelled" in text, text
    assert [p.name for p in (project.cache / "qemu").iterdir() if p.name.startswith(".")] == []
    assert list((project.cache / "tmp").iterdir()) == []
    new = set((project.cache / "layers").iterdir()) - before
    # the signal usually lands during the save (no entry); if the save won the race, its entry is whole
    listing = run_cli("cache", "list", env={"IMAGESMITH_CACHE_DIR": str(project.cache)}).stdout
    assert "damaged" not in listing and len(new) <= 1, listing


def test_cache_clear_removes_the_layers_files(project: Project) -> None:
    env = {"IMAGESMITH_CACHE_DIR": str(project.cache)}
    done = run_cli("cache", "list", env=env)
    assert "qemu  layer 5 (shell)" in done.stdout, done.stdout + done.stderr
    done = run_cli("cache", "clear", env=env)
    assert done.returncode == 0, done.stderr
    assert list((project.cache / "qemu").iterdir()) == []
    assert list((project.cache / "layers").iterdir()) == []

"""Two runs of the Python API in one process share nothing: run UUID, secrets, start time, ports.

Each build is a real null build whose shell-local provisioner (a real /bin/sh) records what it
sees (``PACKER_RUN_UUID``, ``{{timestamp}}``) and whose manifest post-processor records the run
UUID; both echo their own sensitive variable and, as a plain variable, the other run's secret.
Concurrent runs meet in the middle (each waits for the other's ``started`` file), which proves
they overlapped; the second starts at least a second after the first, so their ``{{timestamp}}``
must differ.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import imagesmith
from imagesmith.core.ports import pick_port, port_scope, release_port, reserved
from imagesmith.ui import ConsoleUi

WAIT_FOR_PEER = (
    "touch {{user `dir`}}/started; i=0; "
    "while [ ! -e {{user `peer`}}/started ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; "
    "test -e {{user `peer`}}/started"
)
TEMPLATE = {
    "variables": {"mine": "", "other": "", "dir": "", "peer": ""},
    "sensitive-variables": ["mine"],
    "builders": [{"type": "null", "communicator": "none"}],
    "provisioners": [
        {
            "type": "shell-local",
            "inline": [
                "echo mine={{user `mine`}} other={{user `other`}}",
                'echo "$PACKER_RUN_UUID" > {{user `dir`}}/uuid',
                "echo {{timestamp}} > {{user `dir`}}/timestamp",
            ],
        }
    ],
    "post-processors": [{"type": "manifest", "output": "{{user `dir`}}/manifest.json"}],
}


@dataclass
class Run:
    """One API run's inputs and what it left behind."""

    dir: Path
    secret: str
    other: str
    peer: Path | None = None
    out: io.StringIO = field(default_factory=io.StringIO)

    def vars(self) -> dict[str, str]:
        peer = str(self.peer) if self.peer else ""
        return {"mine": self.secret, "other": self.other, "dir": str(self.dir), "peer": peer}

    def ui(self) -> ConsoleUi:
        return ConsoleUi(self.out, self.out, color=False)

    def seen(self, name: str) -> str:
        return (self.dir / name).read_text().strip()


def make_runs(tmp_path: Path, *, meet: bool) -> tuple[Path, Run, Run]:
    template = dict(TEMPLATE)
    if meet:
        template["provisioners"] = [dict(TEMPLATE["provisioners"][0])]  # type: ignore[index]
        template["provisioners"][0]["inline"] = [*template["provisioners"][0]["inline"], WAIT_FOR_PEER]  # type: ignore[index]
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template, indent=2))
    a = Run(tmp_path / "a", secret="alpha-s3cret-1111", other="bravo-s3cret-2222")
    b = Run(tmp_path / "b", secret="bravo-s3cret-2222", other="alpha-s3cret-1111")
    for run in (a, b):
        run.dir.mkdir()
    if meet:
        a.peer, b.peer = b.dir, a.dir
    return path, a, b


def check_isolated(a: Run, b: Run) -> None:
    for run in (a, b):
        text = run.out.getvalue()
        assert f"mine=<sensitive> other={run.other}" in text, text  # its own secret masked, the other's unknown
        assert run.secret not in text
        manifest = json.loads(run.seen("manifest.json"))
        assert manifest["last_run_uuid"] == run.seen("uuid")
        assert [b["packer_run_uuid"] for b in manifest["builds"]] == [run.seen("uuid")]
    assert a.seen("uuid") and b.seen("uuid") and a.seen("uuid") != b.seen("uuid")
    assert int(b.seen("timestamp")) > int(a.seen("timestamp"))
    assert "PACKER_RUN_UUID" not in os.environ
    assert not reserved()


def build(path: Path, run: Run) -> list[object]:
    return list(imagesmith.build(str(path), vars=run.vars(), ui=run.ui()))


def test_two_runs_one_after_the_other(tmp_path: Path) -> None:
    path, a, b = make_runs(tmp_path, meet=False)
    handler = signal.getsignal(signal.SIGINT)
    assert build(path, a)
    time.sleep(1.1)  # {{timestamp}} has a resolution of one second
    assert build(path, b)
    assert signal.getsignal(signal.SIGINT) is handler  # the main thread's handlers were put back
    check_isolated(a, b)


def test_two_runs_at_once_in_threads(tmp_path: Path) -> None:
    path, a, b = make_runs(tmp_path, meet=True)
    errors: list[BaseException] = []

    def run_in_thread(run: Run, delay: float) -> None:
        time.sleep(delay)
        try:
            build(path, run)
        except BaseException as exc:  # reported by the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run_in_thread, args=(r, d)) for r, d in ((a, 0.0), (b, 1.1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    check_isolated(a, b)


def test_two_runs_at_once_as_asyncio_tasks(tmp_path: Path) -> None:
    path, a, b = make_runs(tmp_path, meet=True)

    async def one(run: Run, delay: float) -> int:
        await asyncio.sleep(delay)
        return len(await imagesmith.build_async(str(path), vars=run.vars(), ui=run.ui()))

    async def both() -> list[int]:
        return list(await asyncio.gather(one(a, 0.0), one(b, 1.1)))

    handler = signal.getsignal(signal.SIGINT)
    assert all(asyncio.run(both()))
    assert signal.getsignal(signal.SIGINT) is handler
    check_isolated(a, b)


def test_build_failed_carries_every_error_and_the_good_artifacts(tmp_path: Path) -> None:
    template = {
        "variables": {"pw": "hunter2-hunter2"},
        "sensitive-variables": ["pw"],
        "builders": [
            {"type": "null", "name": "good", "communicator": "none"},
            {"type": "null", "name": "bad", "communicator": "none"},
            {"type": "file", "name": "file", "content": "x", "target": str(tmp_path / "out.txt")},
        ],
        "provisioners": [{"type": "shell-local", "only": ["bad"], "inline": ["echo {{user `pw`}}; exit 3"]}],
        "post-processors": [{"type": "shell-local", "only": ["good"], "inline": ["exit 4 # {{user `pw`}}"]}],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    out = io.StringIO()
    with pytest.raises(imagesmith.BuildFailed) as info:
        imagesmith.build(str(path), ui=ConsoleUi(out, out, color=False))
    failed = info.value
    assert isinstance(failed, imagesmith.ImagesmithError)
    assert sorted(failed.errors) == ["bad", "good"]
    assert "non-zero exit status: 3" in failed.errors["bad"]
    assert [a.files for a in failed.artifacts] == [[str(tmp_path / "out.txt")]]
    assert not failed.interrupted
    assert "hunter2" not in str(failed) + out.getvalue()
    assert "<sensitive>" in out.getvalue()


def test_template_errors_are_masked_after_the_run(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    template = {
        "variables": {"pw": "hunter2-hunter2"},
        "sensitive-variables": ["pw"],
        "builders": [{"type": "null", "communicator": "none", "ssh_host": "{{user `pw`}}", "nosuch": 1}],
    }
    path.write_text(json.dumps(template))
    with pytest.raises(imagesmith.TemplateError) as info:
        imagesmith.validate(str(path))
    assert "nosuch" in str(info.value)
    with pytest.raises(imagesmith.ImagesmithError, match="on_error must be one of"):
        imagesmith.build(str(path), on_error="explode")


def test_inspect_hides_sensitive_defaults(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    template = {
        "description": "d",
        "variables": {"pw": "hunter2", "region": "eu", "need": None},
        "sensitive-variables": ["pw"],
        "builders": [{"type": "null", "name": "n", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": ["true"]}],
        "post-processors": [[{"type": "manifest"}, {"type": "checksum"}]],
    }
    path.write_text(json.dumps(template))
    found = imagesmith.inspect(str(path))
    shown = {v.name: (v.default, v.required, v.sensitive) for v in found.variables}
    assert shown == {"pw": ("<sensitive>", False, True), "region": ("eu", False, False), "need": ("", True, False)}
    assert found.builders == [("n", "null")]
    assert found.provisioners == ["shell-local"]
    assert found.post_processors == [["manifest", "checksum"]]


def _two_free_ports() -> int:
    """``p`` such that ``p`` and ``p + 1`` can both be bound on 127.0.0.1 now."""
    for low in range(47000, 48000, 2):
        ok = []
        for port in (low, low + 1):
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                    ok.append(port)
                except OSError:
                    break
        if len(ok) == 2:
            return low
    raise AssertionError("no two consecutive free ports in 47000-47999")


def test_port_reservations_are_shared_but_released_with_their_run() -> None:
    got: dict[str, int] = {}
    low = _two_free_ports()
    inside = threading.Barrier(2, timeout=60)

    def one_run(name: str) -> None:
        with port_scope() as owned:
            got[name] = pick_port("127.0.0.1", low, low + 1, "test")
            inside.wait()  # both runs hold their port now
            assert owned == {("127.0.0.1", got[name])}
            inside.wait()

    threads = [threading.Thread(target=one_run, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(got.values()) == [low, low + 1]  # never the same port for two concurrent runs
    assert not reserved()  # nothing released explicitly: the runs' ends released them
    with port_scope():
        port = pick_port("127.0.0.1", low, low, "test")
        release_port("127.0.0.1", port)
        assert not reserved()


def test_cancelling_build_async_stops_the_build_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    pid_file = tmp_path / "pid"
    template = {
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": [f"echo $$ > {pid_file}", "sleep 600"]}],
    }
    path.write_text(json.dumps(template))

    async def main() -> float:
        task = asyncio.create_task(imagesmith.build_async(str(path), ui=ConsoleUi(io.StringIO(), io.StringIO())))
        for _ in range(1200):
            if pid_file.exists() and pid_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    handler = signal.getsignal(signal.SIGINT)
    assert asyncio.run(asyncio.wait_for(main(), 300)) < 120  # not the 600 s the script would take
    assert signal.getsignal(signal.SIGINT) is handler
    # The script is a grandchild: killed with its process group, it may take a moment to go.
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 60
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(pid)


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie does not: the script's parent was killed with it, and
    reaping the orphan is the job of the machine's init, which in a container may never do it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_two_runs_in_threads_append_to_one_manifest(tmp_path: Path) -> None:
    """The manifest's in-process lock spans event loops (it was an asyncio.Lock bound to one loop)."""
    manifest = tmp_path / "manifest.json"
    template = {
        "builders": [{"type": "null", "name": f"n{i}", "communicator": "none"} for i in range(4)],
        "post-processors": [{"type": "manifest", "output": str(manifest)}],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            imagesmith.build(str(path), ui=ConsoleUi(io.StringIO(), io.StringIO()))
        except BaseException as exc:  # reported by the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    builds = json.loads(manifest.read_text())["builds"]
    assert sorted(b["name"] for b in builds) == sorted([f"n{i}" for i in range(4)] * 2)
    assert len({b["packer_run_uuid"] for b in builds}) == 2

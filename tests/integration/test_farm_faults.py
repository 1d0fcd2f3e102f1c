"""The farm when things go wrong, with a real redis-server and real Celery workers: Ctrl-C on the
client (the remote cleanup runs; a second Ctrl-C stops waiting and says what is still cleaning),
a worker killed with SIGKILL (the build fails once its lease expires, and its process cleans up),
the broker restarted mid-build, and a build longer than the visibility timeout (runs once)."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from tests.integration.farm_support import Reader, need_farm, null_build, running_farm, wait_for, write_template

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _farm_tools() -> None:
    need_farm()


def processes_running(marker: str) -> list[int]:
    """Pids whose command line contains ``marker`` (a sleep with a duration no one else uses)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline and "sh -c" not in cmdline:
                found.append(int(entry))
    return found


def script_of(output: str) -> Path:
    found = re.findall(r"Running local shell script: (\S+)", output)
    assert found, output
    return Path(found[0])


def test_ctrl_c_cancels_the_remote_build_and_its_cleanup_runs(tmp_path: Path) -> None:
    builder, provisioner = null_build("slow", "echo started", "sleep 3171")
    waiting, _ = null_build("unserved")  # needs a capability no worker has: still queued at Ctrl-C
    template = write_template(tmp_path / "t", {"builders": [builder, waiting], "provisioners": [provisioner]})
    with running_farm(tmp_path / "farm") as farm:
        farm.start_worker("w1")
        client = Reader(farm.start_build("-route=unserved=virtualbox", str(template), cwd=tmp_path))
        client.wait_for("slow: started")
        client.proc.send_signal(signal.SIGINT)
        output = client.finish()
        assert client.proc.returncode == 1, output
        assert "Cancelling build after receiving interrupt" in output
        assert "==> slow: Cleaned up: step 'StepProvision'" in output  # reported by the worker's cleanup
        assert "Cleanly cancelled builds after being interrupted." in output
        assert not script_of(output).exists()
        wait_for(lambda: not processes_running("sleep 3171"), "the build's sleep to be stopped", 60)
        assert len(farm.redis.cli("--scan", "--pattern", "imagesmith:cancel:*").stdout.split()) == 2  # kept


def test_a_second_ctrl_c_stops_waiting_and_names_what_is_still_cleaning(tmp_path: Path) -> None:
    # the script ignores SIGTERM/SIGINT: its cleanup takes imagesmith's 5 s grace before SIGKILL
    builder, provisioner = null_build("stubborn", "trap '' TERM INT", "echo started", "sleep 3173")
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    with running_farm(tmp_path / "farm") as farm:
        farm.start_worker("w1")
        client = Reader(farm.start_build(str(template), cwd=tmp_path))
        client.wait_for("stubborn: started")
        client.proc.send_signal(signal.SIGINT)
        client.wait_for("Cancelling build after receiving interrupt")
        client.proc.send_signal(signal.SIGINT)
        output = client.finish()
        assert client.proc.returncode == 1, output
        assert "==> stubborn: Still cleaning up on worker w1" in output
        assert "Cancelled builds; cleanup was interrupted." in output
        wait_for(lambda: not processes_running("sleep 3173"), "the worker to finish the cleanup", 90)
        wait_for(lambda: not script_of(output).exists(), "the worker to remove the build's script", 30)


def test_a_killed_worker_fails_its_build_after_the_lease_expires(tmp_path: Path) -> None:
    builder, provisioner = null_build("doomed", "echo started", "sleep 3172")
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    with running_farm(tmp_path / "farm") as farm:
        worker = farm.start_worker("mortal", "", "-lease-seconds", "2")
        client = Reader(farm.start_build(str(template), cwd=tmp_path))
        client.wait_for("doomed: started")
        farm.stop_worker(worker, signal.SIGKILL)
        output = client.finish(timeout=180)
        assert client.proc.returncode == 1, output
        assert "--> doomed: worker mortal stopped renewing the build's lease" in output
        # the build's own process saw its worker die (SIGTERM from the kernel) and cleaned up
        wait_for(lambda: not processes_running("sleep 3172"), "the orphaned build to clean up", 90)


def test_the_broker_restarted_mid_build_does_not_stop_the_build(tmp_path: Path) -> None:
    release = tmp_path / "release"
    lines = ["echo started", f"while [ ! -e {release} ]; do sleep 0.2; done", "echo after-restart"]
    builder, provisioner = null_build("steady", *lines)
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    with running_farm(tmp_path / "farm") as farm:
        farm.start_worker("w1", "", "-lease-seconds", "5")
        client = Reader(farm.start_build(str(template), cwd=tmp_path))
        client.wait_for("steady: started")
        farm.redis.stop()
        client.wait_for("Lost the connection to the farm's broker")
        farm.redis.start()  # empty: nothing was persisted
        release.touch()
        output = client.finish()
        assert client.proc.returncode == 0, output
        assert "steady: after-restart" in output
        assert "Build 'steady' finished" in output


def test_a_build_longer_than_the_visibility_timeout_runs_once(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    builder, provisioner = null_build("long", f"echo run >> {counter}", "sleep 8")
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    with running_farm(tmp_path / "farm") as farm:
        for name in ("w1", "w2"):  # either could be handed an unacknowledged message again
            farm.start_worker(name, "", "-visibility-timeout", "2")
        done = farm.build(str(template), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert counter.read_text() == "run\n"

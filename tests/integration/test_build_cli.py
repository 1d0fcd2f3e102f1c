"""``imagesmith build`` as a user runs it: real subprocesses, real shell-local scripts, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.integration import test_ssh_sshd
from tests.integration.test_ssh_sshd import Sshd

sshd = test_ssh_sshd.sshd  # the real-sshd fixture, shared

SECRET = "s3cr3t-Hunter2"


def write(path: Path, template: dict[str, object]) -> str:
    path.write_text(json.dumps(template))
    return str(path)


def null_with(provisioners: list[dict[str, object]], **extra: object) -> dict[str, object]:
    return {"builders": [{"type": "null", "communicator": "none"}], "provisioners": provisioners, **extra}


def test_sensitive_values_masked_in_console_machine_and_log(tmp_path: Path) -> None:
    template = null_with(
        [
            {
                "type": "shell-local",
                "inline": ["echo out={{user `pw`}}", "echo err={{user `pw`}} >&2", 'echo "env=$PW"'],
                "environment_vars": ["PW={{user `pw`}}"],
            }
        ],
        variables={"pw": SECRET},
        **{"sensitive-variables": ["pw"]},
    )
    path = write(tmp_path / "t.json", template)
    log = tmp_path / "log.txt"
    env = {"PACKER_LOG": "1", "PACKER_LOG_PATH": str(log)}
    human = run_cli("build", "-color=false", path, cwd=tmp_path, env=env)
    machine = run_cli("build", "-machine-readable", path, cwd=tmp_path, env=env)
    assert human.returncode == 0, human.stderr
    assert "    null: out=<sensitive>" in human.stdout
    assert "==> null: err=<sensitive>" in human.stdout
    assert "env=<sensitive>" in human.stdout
    assert ",ui,message,    null: out=<sensitive>" in machine.stdout
    for text in (human.stdout, human.stderr, machine.stdout, machine.stderr, log.read_text()):
        assert SECRET not in text
    assert log.read_text()  # the log was written, so the check above means something


def test_only_except_and_pp_name_cut(tmp_path: Path) -> None:
    template = {
        "builders": [
            {"type": "file", "name": "a", "content": "A", "target": "a.txt"},
            {"type": "file", "name": "b", "content": "B", "target": "b.txt"},
        ],
        "post-processors": [
            [
                {"type": "shell-local", "name": "one", "inline": ["echo {{build_name}} >> one.txt"]},
                {"type": "shell-local", "name": "two", "inline": ["echo {{build_name}} >> two.txt"]},
            ]
        ],
    }
    path = write(tmp_path / "t.json", template)
    result = run_cli("build", "-color=false", "-only=a", "-except=two", path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.txt").read_text() == "A" and not (tmp_path / "b.txt").exists()
    assert (tmp_path / "one.txt").read_text() == "a\n" and not (tmp_path / "two.txt").exists()
    assert "--> a: Stored file: a.txt" in result.stdout


def test_on_error_abort_skips_cleanup_provisioner(tmp_path: Path) -> None:
    template = null_with(
        [{"type": "shell-local", "inline": ["exit 3"]}],
        **{"error-cleanup-provisioner": {"type": "shell-local", "inline": ["touch cleaned"]}},
    )
    path = write(tmp_path / "t.json", template)
    abort = run_cli("build", "-color=false", "-on-error=abort", path, cwd=tmp_path)
    assert abort.returncode == 1 and not (tmp_path / "cleaned").exists()
    assert 'aborted: skipping cleanup of step "StepProvision"' in abort.stdout
    keep = run_cli("build", "-color=false", "-on-error=run-cleanup-provisioner", path, cwd=tmp_path)
    assert keep.returncode == 1 and (tmp_path / "cleaned").exists()
    bad = run_cli("build", "-on-error=sometimes", path, cwd=tmp_path)
    assert bad.returncode == 1 and "-on-error" in bad.stderr


def test_timestamp_ui_and_colors(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", null_with([{"type": "shell-local", "inline": ["echo hi"]}]))
    result = run_cli("build", "-timestamp-ui", "-color=false", path, cwd=tmp_path)
    line = next(line for line in result.stdout.splitlines() if "Running local shell script" in line)
    assert line[:4].isdigit() and "T" in line[:20] and ": ==> null: Running local shell script" in line
    assert "\033[" not in result.stdout  # not a terminal: no colour codes


def test_manifest_force_truncates_on_new_run(tmp_path: Path) -> None:
    template = {
        "builders": [{"type": "file", "name": "f", "content": "x", "target": "x.txt"}],
        "post-processors": [{"type": "manifest", "strip_path": True, "custom_data": {"k": "{{build `ID`}}"}}],
    }
    path = write(tmp_path / "t.json", template)
    for _ in range(2):
        assert run_cli("build", path, cwd=tmp_path).returncode == 0
    manifest = json.loads((tmp_path / "packer-manifest.json").read_text())
    assert len(manifest["builds"]) == 2
    assert run_cli("build", "-force", path, cwd=tmp_path).returncode == 0
    manifest = json.loads((tmp_path / "packer-manifest.json").read_text())
    assert len(manifest["builds"]) == 1
    entry = manifest["builds"][0]
    assert entry["files"] == [{"name": "x.txt", "size": 1}] and entry["custom_data"] == {"k": "<no value>"}
    assert entry["packer_run_uuid"] == manifest["last_run_uuid"]
    assert not (tmp_path / "packer-manifest.json.lock").exists()


def start_build(tmp_path: Path, template: dict[str, object]) -> subprocess.Popen[str]:
    path = write(tmp_path / "t.json", template)
    return subprocess.Popen(
        [sys.executable, "-m", "imagesmith", "build", "-color=false", path],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )


def wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def sleeper_template() -> dict[str, object]:
    return {
        "builders": [
            {"type": "null", "name": "n1", "communicator": "none"},
            {"type": "null", "name": "n2", "communicator": "none"},
        ],
        "provisioners": [
            {"type": "shell-local", "inline": ["touch started.{{build_name}}", "sleep 3131", "touch late"]}
        ],
    }


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_all_builds_and_cleans_up(tmp_path: Path, sig: signal.Signals) -> None:
    proc = start_build(tmp_path, sleeper_template())
    wait_for(tmp_path / "started.n1")
    wait_for(tmp_path / "started.n2")
    start = time.monotonic()
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - start < 10  # the sleeps were stopped, not waited for
    assert proc.returncode == 1, out
    name = "interrupt" if sig == signal.SIGINT else "terminated"
    assert f"Cancelling build after receiving {name}" in out
    assert "Build 'n1' errored after" in out and "Build was cancelled." in out
    assert "==> n1: Cleaned up: step 'StepProvision'" in out
    assert "Cleanly cancelled builds after being interrupted." in out
    assert not (tmp_path / "late").exists()
    assert not running("sleep 3131")  # the script's children were stopped too
    leftovers = Path(os.environ.get("TMPDIR", "/tmp")).glob("packer-shell*")
    assert not [p for p in leftovers if p.stat().st_mtime >= start - 70 and "sleep 3131" in p.read_text()]


def running(command: str) -> list[str]:
    """Processes whose command line is ``command``."""
    ps = subprocess.run(["ps", "-eo", "args="], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines() if line.strip() == command]


class SlowCleanup:
    """A template whose cleanup (the error-cleanup-provisioner) takes long, to interrupt twice."""

    @staticmethod
    def template() -> dict[str, object]:
        return null_with(
            [{"type": "shell-local", "inline": ["touch started", "exit 1"]}],
            **{"error-cleanup-provisioner": {"type": "shell-local", "inline": ["touch cleaning", "sleep 3132"]}},
        )


def test_second_interrupt_names_what_was_left_behind(tmp_path: Path) -> None:
    proc = start_build(tmp_path, SlowCleanup.template())
    wait_for(tmp_path / "cleaning")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, out
    assert "Received interrupt again: abandoning the remaining cleanup." in out
    assert "Left behind (cleanup interrupted): step 'StepProvision'" in out
    time.sleep(0.5)
    assert not running("sleep 3132")  # abandoned, but its process was still stopped on exit


def test_debug_pauses_between_steps_and_provisioners(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", null_with([{"type": "shell-local", "inline": ["touch done"]}]))
    result = run_cli("build", "-color=false", "-debug", path, cwd=tmp_path, stdin="\n" * 10)
    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert "Debug mode enabled. Builds will not be parallelized." in out
    assert "==> null: Pausing before the next provisioner . Press enter to continue." in out
    assert "==> null: Pausing after run of step 'StepProvision'. Press enter to continue." in out
    assert "==> null: Pausing before cleanup of step 'StepProvision'. Press enter to continue." in out
    assert (tmp_path / "done").exists()


def test_on_error_ask_retry_then_cleanup(tmp_path: Path) -> None:
    script = "test -e ok || { touch ok; exit 1; }"  # fails the first time only
    path = write(tmp_path / "t.json", null_with([{"type": "shell-local", "inline": [script]}]))
    result = run_cli("build", "-color=false", "-on-error=ask", path, cwd=tmp_path, stdin="r\n")
    assert result.returncode == 0, result.stdout
    assert "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step" in result.stdout
    failing = write(tmp_path / "f.json", null_with([{"type": "shell-local", "inline": ["exit 1"]}]))
    result = run_cli("build", "-color=false", "-on-error=ask", failing, cwd=tmp_path, stdin="c\n")
    assert result.returncode == 1 and "Provisioning step had errors" in result.stdout


def test_null_builder_over_ssh(tmp_path: Path, sshd: Sshd) -> None:
    remote = tmp_path / "remote.txt"
    template = {
        "builders": [
            {
                "type": "null",
                "ssh_host": "127.0.0.1",
                "ssh_port": sshd.port,
                "ssh_username": "root",
                "ssh_private_key_file": str(sshd.key),
            }
        ],
        "provisioners": [
            {"type": "shell", "inline": [f"echo over-ssh > {remote}"]},
            {"type": "shell-local", "inline": ["echo {{build `Host`}}:{{build `Port`}}:{{build `ConnType`}} > local"]},
        ],
    }
    result = run_cli("build", "-color=false", write(tmp_path / "t.json", template), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert remote.read_text() == "over-ssh\n"
    assert (tmp_path / "local").read_text() == f"127.0.0.1:{sshd.port}:ssh\n"


def test_interrupt_during_debug_pause_does_not_wait_for_enter(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", null_with([{"type": "shell-local", "inline": ["true"]}]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagesmith", "build", "-color=false", "-debug", path],
        cwd=tmp_path,
        stdin=subprocess.PIPE,  # kept open and silent: nobody presses Enter
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Press enter to continue." in line:
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=20)[0]
    assert proc.returncode == 1
    assert "Cleanly cancelled builds after being interrupted." in rest


def test_vars_var_files_and_usage_errors(tmp_path: Path) -> None:
    template = null_with(
        [{"type": "shell-local", "inline": ["echo {{user `a`}}-{{user `b`}} > vars.txt"]}],
        variables={"a": "default", "b": "default"},
    )
    path = write(tmp_path / "t.json", template)
    (tmp_path / "v.json").write_text(json.dumps({"a": "file", "b": "file"}))
    result = run_cli("build", "-var", "a=cli", "-var-file=v.json", path, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "vars.txt").read_text() == "cli-file\n"  # every -var beats every -var-file
    assert run_cli("build", cwd=tmp_path).returncode == 1
    bad = run_cli("build", "-parallel-builds=many", path, cwd=tmp_path)
    assert bad.returncode == 1 and "-parallel-builds" in bad.stderr

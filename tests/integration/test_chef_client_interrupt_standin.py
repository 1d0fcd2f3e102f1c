"""Ctrl-C during chef-client (recording stand-in) over SSH: the staging directory, which holds the
validation key, is removed from the machine, and nothing is left on this side.

The machine is this host through a test sshd on 127.0.0.1 (null builder), so the staging directory
can be looked at after the run. ``execute_command`` runs the chef-client stand-in (it records the
call and keeps a copy of the key), then writes its shell's pid and sleeps: that is when the test
presses Ctrl-C. The sleeping remote shell is the test's own and is stopped by the test (Packer does
not stop a remote command either).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest

from .leftovers import Run, start_build
from .test_ssh_sshd import Sshd, sshd  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
CHEF_CLIENT = Path(__file__).resolve().parents[1] / "standins" / "chef" / "chef-client"


def test_ctrl_c_during_chef_client_stand_in_removes_the_staging_dir(tmp_path: Path, sshd: Sshd) -> None:  # noqa: F811
    staging, record, pidfile = tmp_path / "staging", tmp_path / "chef-record", tmp_path / "remote.pid"
    (tmp_path / "validation.pem").write_text("VALIDATOR KEY\n")
    provisioner = {
        "type": "chef-client",
        "server_url": "https://chef.example.test/organizations/ops",
        "validation_key_path": "validation.pem",
        "node_name": "interrupted-node",
        "skip_install": True,
        "chef_license": "accept",
        "prevent_sudo": True,
        "staging_directory": str(staging),
        "execute_command": f"CHEF_STANDIN_DIR={record} {CHEF_CLIENT} --no-color -c {{{{.ConfigPath}}}} "
        f"-j {{{{.JsonPath}}}} && echo $$ > {pidfile} && exec sleep 300",
    }
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
        "provisioners": [provisioner],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    proc, tmpdir, before, ports = start_build([str(path)], tmp_path)
    try:
        deadline = time.monotonic() + 300
        while not pidfile.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pidfile.exists(), proc.communicate(timeout=60)[0] if proc.poll() is not None else "no run in 300 s"
        assert (staging / "validation.pem").read_text() == "VALIDATOR KEY\n"  # what must go
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        if pidfile.exists() and (remote := pidfile.read_text().strip()).isdigit():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(remote), signal.SIGKILL)
    run = Run(proc.returncode, output, proc.pid, tmpdir, before, ports)
    run.assert_failed_with("Executing Chef: CHEF_STANDIN_DIR=")
    [call] = [json.loads(line) for line in (record / "calls.jsonl").read_text().splitlines()]
    assert call["argv"] == ["--no-color", "-c", f"{staging}/client.rb", "-j", f"{staging}/first-boot.json"]
    assert not staging.exists(), output
    run.assert_clean()  # no process in imagesmith's session, nothing in its TMPDIR

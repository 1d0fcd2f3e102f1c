"""The remote ansible provisioner against an SSH host: a test sshd on 127.0.0.1 and the null builder.

One build runs the playbook twice: through the proxy (relaying over the SSH communicator's
connection, no ``+ssh-rsa`` workaround) and with ``use_proxy: false`` (ansible straight to sshd with
the communicator's key and user). A sensitive variable passed in ``extra_arguments`` arrives but is
never printed. A failing playbook ends the build with the command and ansible's stderr shown, and
nothing is left in the temp directory (key, inventory) or on the proxy's port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from ..conftest import require_tool, run_cli
from .ansible_support import write_playbook
from .leftovers import Run, listening_ports, start_build
from .test_ssh_sshd import Sshd, sshd  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
SECRET = "s3cr3t-Value-42"


def write_template(root: Path, server: Sshd, provisioners: list[dict[str, Any]]) -> Path:
    template = {
        "variables": {"db_password": SECRET},
        "sensitive-variables": ["db_password"],
        "builders": [
            {
                "type": "null",
                "ssh_host": "127.0.0.1",
                "ssh_port": server.port,
                "ssh_username": "root",
                "ssh_private_key_file": str(server.key),
            }
        ],
        "provisioners": provisioners,
    }
    path = root / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def private_tmp(root: Path) -> dict[str, str]:
    tmp = root / "private-tmp"
    tmp.mkdir()
    return {"TMPDIR": str(tmp)}


def test_ansible_proxy_and_direct_against_sshd(tmp_path: Path, sshd: Sshd) -> None:  # noqa: F811
    require_tool(shutil.which("ansible-playbook") is not None, "needs ansible-playbook (apt-get install ansible-core)")
    write_playbook(tmp_path)
    targets = {name: tmp_path / name for name in ("via-proxy", "direct")}
    provisioners = [
        {
            "type": "ansible",
            "playbook_file": "playbook.yml",
            "groups": ["web"],
            "use_proxy": name == "via-proxy",
            **({} if name == "via-proxy" else {"keep_inventory_file": True, "inventory_directory": "kept"}),
            "extra_arguments": ["-e", f"target_dir={target}", "-e", "db_password={{user `db_password`}}"],
        }
        for name, target in targets.items()
    ]
    for target in [*targets.values(), tmp_path / "kept"]:
        target.mkdir()
    env = private_tmp(tmp_path)
    done = run_cli("build", str(write_template(tmp_path, sshd, provisioners)), cwd=tmp_path, env=env, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for target in targets.values():
        info = (target / "imagesmith-ansible-info.txt").read_text()
        assert info == f"build=null type=null groups=web password={SECRET}\n"
        assert (target / "imagesmith-ansible-copy.txt").read_text() == "hello from ansible\n"
    assert SECRET not in output
    assert "Setting up proxy adapter for Ansible...." in output
    assert "Not using Proxy adapter for Ansible run:" in output
    assert "--ssh-extra-args '-o IdentitiesOnly=yes'" in output
    assert f"ansible_ssh_private_key_file={sshd.key}" in output  # direct: the communicator's own key
    assert os.listdir(env["TMPDIR"]) == []
    [kept] = (tmp_path / "kept").iterdir()
    line = f"default ansible_host=127.0.0.1 ansible_user=root ansible_port={sshd.port}\n"
    assert kept.read_text() == f"{line}[web]\n{line}"


def test_failing_playbook_names_the_command_and_leaves_nothing(tmp_path: Path, sshd: Sshd) -> None:  # noqa: F811
    require_tool(shutil.which("ansible-playbook") is not None, "needs ansible-playbook (apt-get install ansible-core)")
    (tmp_path / "fail.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - command: /bin/false\n      vars: {ansible_python_interpreter: /usr/bin/python3}\n"
    )
    env = private_tmp(tmp_path)
    provisioner = {
        "type": "ansible",
        "playbook_file": "fail.yml",
        "extra_arguments": ["-e", "pw={{user `db_password`}}"],
    }
    done = run_cli("build", str(write_template(tmp_path, sshd, [provisioner])), cwd=tmp_path, env=env, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Error executing Ansible: Non-zero exit status: exit status 2" in output
    assert "command: ansible-playbook -e packer_build_name=" in output
    assert "FAILED!" in output
    assert SECRET not in output
    assert "Traceback" not in output
    assert os.listdir(env["TMPDIR"]) == []


def test_ctrl_c_during_the_playbook_leaves_no_port_key_or_inventory(tmp_path: Path, sshd: Sshd) -> None:  # noqa: F811
    require_tool(shutil.which("ansible-playbook") is not None, "needs ansible-playbook (apt-get install ansible-core)")
    port_file = tmp_path / "proxy-port"
    (tmp_path / "slow.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  vars: {ansible_python_interpreter: /usr/bin/python3}\n  tasks:\n"
        f"    - copy: {{content: '{{{{ ansible_port }}}}', dest: {port_file}}}\n"
        "    - command: sleep 300\n"
    )
    template = write_template(tmp_path, sshd, [{"type": "ansible", "playbook_file": "slow.yml"}])
    proc, tmpdir, before, ports = start_build([str(template)], tmp_path)
    try:
        deadline = time.monotonic() + 300
        while not port_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert port_file.exists(), proc.communicate(timeout=60)[0] if proc.poll() is not None else "no port in 300 s"
        time.sleep(2)  # the sleep task has started
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    run = Run(proc.returncode, output, proc.pid, tmpdir, before, ports)
    run.assert_failed_with()
    proxy_port = int(port_file.read_text())
    assert proxy_port not in listening_ports(), output
    run.assert_clean()  # no process in imagesmith's session, nothing in its TMPDIR (key, inventory)

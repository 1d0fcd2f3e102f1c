"""Unit tests of the remote ansible provisioner: argv, inventory, environment, galaxy, checks (Packer 1.6.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.core.generated import HTTP_ADDR_NOT_IMPLEMENTED
from imagesmith.provisioners.ansible import (
    AnsibleConfig,
    AnsibleProvisioner,
    Invocation,
    go_quote,
    has_arg,
    make_env,
    make_galaxy_args,
    make_inventory,
    make_playbook_args,
)

from .cm_fakes import make, make_tree, problems_of


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_tree(tmp_path, monkeypatch)


def invocation(**changes: object) -> Invocation:
    base: dict[str, object] = dict(
        build_name="web",
        builder_type="docker",
        http_addr=HTTP_ADDR_NOT_IMPLEMENTED,
        conn_type="docker",
        key_file="/tmp/ansible-key1",
        inventory="/tmp/packer-provisioner-ansible1",
        playbook="/abs/play.yml",
        use_proxy=True,
    )
    base.update(changes)
    return Invocation(**base)  # type: ignore[arg-type]


def test_docker_argv_has_no_ssh_extra_args_nor_http_addr() -> None:
    args = make_playbook_args(AnsibleConfig(extra_arguments=["-v"]), invocation())
    assert args == [
        "-e", 'packer_build_name="web"', "-e", "packer_builder_type=docker", "-v",
        "-e", "ansible_ssh_private_key_file=/tmp/ansible-key1",
        "-i", "/tmp/packer-provisioner-ansible1", "/abs/play.yml",
    ]  # fmt: skip


def test_ssh_argv_adds_identities_only_and_http_addr() -> None:
    args = make_playbook_args(AnsibleConfig(), invocation(conn_type="ssh", http_addr="10.0.0.1:8080"))
    assert args[4:8] == ["-e", "packer_http_addr=10.0.0.1:8080", "--ssh-extra-args", "'-o IdentitiesOnly=yes'"]
    custom = AnsibleConfig(ansible_ssh_extra_args=["-o A=b ", "-o C=d"])
    assert "'-o A=b -o C=d'" in make_playbook_args(custom, invocation(conn_type="ssh"))


def test_password_argument_replaces_key_and_turns_off_host_key_checking() -> None:
    c = AnsibleConfig(extra_arguments=["-e", "ansible_password=pw"])
    args = make_playbook_args(c, invocation(conn_type="ssh"))
    assert "ansible_ssh_private_key_file=/tmp/ansible-key1" not in " ".join(args)
    assert args[-5:-2] == ["-e", "ansible_host_key_checking=False", "-i"]
    winrm = make_playbook_args(
        AnsibleConfig(), invocation(conn_type="winrm", use_proxy=False, key_file="", password="s")
    )
    assert winrm[-5:-2] == ["-e", "ansible_password=s", "-i"]


def test_inventory_lines_groups_and_empty_groups() -> None:
    line = "default ansible_host=127.0.0.1 ansible_user=me ansible_port=2222\n"
    assert make_inventory(line, ["web", "db"], ["spare"]) == f"{line}[web]\n{line}[db]\n{line}[spare]\n"
    assert make_inventory(line, [], []) == line


def test_env_adds_packers_variables_and_last_assignment_wins() -> None:
    env = make_env(AnsibleConfig(ansible_env_vars=["A=1=2", "ANSIBLE_HOST_KEY_CHECKING=True"]))
    assert env == {"A": "1=2", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_SCP_IF_SSH": "True"}
    assert make_env(AnsibleConfig(use_sftp=True, ssh_host_key_file="k")) == {}


def test_galaxy_runs_roles_and_collections_as_the_file_asks() -> None:
    c = AnsibleConfig(galaxy_file="req.yml", galaxy_force_install=True, roles_path="r", collections_path="c")
    assert make_galaxy_args(c, "- src: x\n") == [["install", "-r", "req.yml", "-f", "-p", "r"]]
    both = make_galaxy_args(c, "roles:\n- x\ncollections:\n- y\n")
    assert both == [
        ["install", "-r", "req.yml", "-f", "-p", "r"],
        ["collection", "install", "-r", "req.yml", "-f", "-p", "c"],
    ]
    assert make_galaxy_args(AnsibleConfig(galaxy_file="g"), "collections:\n- y\n") == [
        ["collection", "install", "-r", "g"]
    ]


def test_go_quote_and_check_arg() -> None:
    assert go_quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert has_arg("ansible_password", ["x", "ansible_password=1"])
    assert not has_arg("ansible_password", ["my_ansible_password=1"])


def test_checks_report_every_problem(tree: Path) -> None:
    assert problems_of(AnsibleProvisioner, {}) == ["playbook_file must be specified."]
    problems = problems_of(
        AnsibleProvisioner,
        {
            "playbook_file": "missing.yml",
            "galaxy_file": "roles",
            "local_port": 70000,
            "inventory_directory": "play.yml",
            "ssh_host_key_file": "nokey",
        },
    )
    assert problems == [
        "playbook_file: missing.yml is invalid: stat missing.yml: no such file or directory",
        "galaxy_file: roles must point to a file",
        "ssh_host_key_file: nokey is invalid: stat nokey: no such file or directory",
        "local_port: 70000 must be a valid port",
        "inventory_directory: play.yml must point to a directory",
    ]
    assert make(AnsibleProvisioner, {"playbook_file": "play.yml", "use_proxy": False}).config.use_proxy is False


def fake_tool(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_galaxy_runs_roles_then_collections_and_a_failure_names_the_command(tmp_path: Path) -> None:
    import asyncio

    from imagesmith.errors import BuildError
    from imagesmith.provisioners.ansible_run import run_galaxy

    from .cm_fakes import ListUi

    log = tmp_path / "calls"
    galaxy = fake_tool(tmp_path, "galaxy", f'echo "$@" >> {log}; echo installing')
    requirements = tmp_path / "req.yml"
    requirements.write_text("roles:\n- x\ncollections:\n- y\n")
    c = AnsibleConfig(galaxy_file=str(requirements), galaxy_command=str(galaxy), roles_path="r")
    ui = ListUi()
    asyncio.run(run_galaxy(ui, c))
    assert log.read_text() == f"install -r {requirements} -p r\ncollection install -r {requirements}\n"
    assert ("message", "installing") in ui.lines
    failing = fake_tool(tmp_path, "failing", "echo 'no such role' >&2; exit 4")
    with pytest.raises(BuildError) as caught:
        asyncio.run(run_galaxy(ListUi(), AnsibleConfig(galaxy_file=str(requirements), galaxy_command=str(failing))))
    assert str(caught.value).startswith(
        "Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit status: exit status 4"
    )
    assert f"command: {failing} install -r {requirements}" in str(caught.value)
    assert "no such role" in str(caught.value)


def test_version_check_reads_the_major_version_or_says_why_not(tmp_path: Path) -> None:
    import asyncio

    from imagesmith.errors import BuildError
    from imagesmith.provisioners.ansible_run import version_of

    modern = fake_tool(tmp_path, "modern", "echo 'ansible-playbook [core 2.14.18]'")
    assert asyncio.run(version_of(str(modern))) == 2
    with pytest.raises(BuildError, match='Error running "/nonexistent/ansible-playbook --version": exec: '):
        asyncio.run(version_of("/nonexistent/ansible-playbook"))
    silent = fake_tool(tmp_path, "silent", "echo nothing")
    with pytest.raises(BuildError, match=f"Could not find {silent} version in output:\nnothing"):
        asyncio.run(version_of(str(silent)))

"""Unit tests of ansible-local and chef-solo against a recording communicator (Packer 1.6.6 behaviour)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagesmith.errors import BuildError
from imagesmith.provisioners.ansible_local import AnsibleLocalProvisioner
from imagesmith.provisioners.chef_solo import ChefSoloProvisioner
from imagesmith.provisioners.cm_common import encode_go_json_indent, go_join, time_ordered_uuid

from .cm_fakes import RecordingComm, make, make_tree, problems_of, run


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_tree(tmp_path, monkeypatch)


def test_ansible_local_layout_and_command(tree: Path) -> None:
    prov = make(
        AnsibleLocalProvisioner,
        {
            "playbook_file": "play.yml",
            "staging_directory": "/tmp/s",
            "inventory_groups": ["web", "db"],
            "group_vars": "group_vars",
            "role_paths": ["roles/web/"],
            "galaxy_file": "galaxy.yml",
            "extra_arguments": ["-v"],
            "clean_staging_directory": True,
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    inventory = next(dst for kind, dst in comm.calls if kind == "upload" and "packer-provisioner-ansible-local" in dst)
    assert comm.files[inventory] == b"[web]\n127.0.0.1\n[db]\n127.0.0.1\n"
    assert comm.calls == [
        ("exec", "mkdir -p '/tmp/s'"),
        ("upload", "/tmp/s/play.yml"),
        ("upload", "/tmp/s/galaxy.yml"),
        ("upload", inventory),
        ("exec", "mkdir -p '/tmp/s/group_vars'"),
        ("upload_dir", "/tmp/s/group_vars <- group_vars/"),
        ("exec", "mkdir -p '/tmp/s/roles/web'"),
        ("upload_dir", "/tmp/s/roles/web <- roles/web/"),
        ("exec", "cd /tmp/s && ansible-galaxy install -r /tmp/s/galaxy.yml -p /tmp/s/roles"),
        (
            "exec",
            "cd /tmp/s && ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook /tmp/s/play.yml --extra-vars "
            '"packer_build_name=web packer_builder_type=docker '
            "packer_http_addr=ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER"
            f' -o IdentitiesOnly=yes" -v -c local -i {inventory}',
        ),
        ("exec", "rm -rf '/tmp/s'"),
    ]


def test_ansible_local_playbook_files_and_defaults(tree: Path) -> None:
    (tree / "more.yml").write_text("- hosts: all\n")
    prov = make(AnsibleLocalProvisioner, {"playbook_files": ["play.yml", str(tree / "more.yml")]})
    assert isinstance(prov, AnsibleLocalProvisioner)
    assert prov.staging.startswith("/tmp/packer-provisioner-ansible-local/")
    comm = RecordingComm({"cd ": 127})
    with pytest.raises(BuildError, match="ansible-playbook could not be found"):
        run(prov, comm)
    uploads = [dst for kind, dst in comm.calls if kind == "upload"]
    assert uploads[:2] == [f"{prov.staging}{tree}/play.yml", f"{prov.staging}{tree}/more.yml"]
    inventory = uploads[2]
    assert comm.files[inventory] == b"127.0.0.1"
    assert f"  -c local -i {inventory}" in comm.calls[-1][1]


def test_ansible_local_validation(tree: Path) -> None:
    assert problems_of(AnsibleLocalProvisioner, {}) == ["Either playbook_file or playbook_files must be specified"]
    assert problems_of(
        AnsibleLocalProvisioner, {"playbook_file": "missing.yml", "role_paths": ["site.pp"], "group_vars": "gv"}
    ) == [
        "playbook_file: missing.yml is invalid: stat missing.yml: no such file or directory",
        "group_vars: gv is invalid: stat gv: no such file or directory",
        "role_paths: site.pp must point to a directory",
    ]


def test_chef_solo_files_and_commands(tree: Path) -> None:
    prov = make(
        ChefSoloProvisioner,
        {
            "cookbook_paths": ["cookbooks"],
            "roles_path": "roles",
            "data_bags_path": "group_vars",
            "encrypted_data_bag_secret_path": "secret",
            "remote_cookbook_paths": ["/srv/cb"],
            "run_list": ["role[db-server]", "recipe[app]"],
            "json": {"app": {"port": 8080, "ratio": 0.5, "html": "<b>&</b>", "list": []}, "empty": {}},
            "version": "17.1",
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    s = "/tmp/packer-chef-solo"
    commands = [c for k, c in comm.calls if k == "exec"]
    assert commands[0] == "curl -L https://omnitruck.chef.io/install.sh | sudo bash -s -- -v 17.1"
    assert commands[-1] == f"sudo chef-solo --no-color -c {s}/solo.rb -j {s}/node.json"
    assert comm.files[f"{s}/solo.rb"].decode() == (
        "\n"
        'chef_license \t\t"accept-silent"\n'
        f'cookbook_path \t["/srv/cb","{s}/cookbooks-0"]\n'
        "\n"
        f'role_path\t\t"{s}/roles"\n'
        "\n"
        "\n"
        f'data_bag_path\t"{s}/data_bags"\n'
        "\n"
        "\n"
        f'encrypted_data_bag_secret "{s}/encrypted_data_bag_secret"\n'
        "\n"
        "\n"
    )
    assert comm.files[f"{s}/node.json"].decode() == (
        "{\n"
        '  "app": {\n'
        '    "html": "\\u003cb\\u003e\\u0026\\u003c/b\\u003e",\n'
        '    "list": [],\n'
        '    "port": 8080,\n'
        '    "ratio": 0.5\n'
        "  },\n"
        '  "empty": {},\n'
        '  "run_list": [\n'
        '    "role[db-server]",\n'
        '    "recipe[app]"\n'
        "  ]\n"
        "}"
    )
    assert comm.files[f"{s}/encrypted_data_bag_secret"] == b"secret\n"


def test_chef_solo_license_and_custom_commands(tree: Path) -> None:
    (tree / "solo.tmpl").write_text('cookbook_path [{{.CookbookPaths}}]\nlicense "{{.ChefLicense}}" {{user `who`}}\n')
    prov = make(
        ChefSoloProvisioner,
        {
            "skip_install": True,
            "prevent_sudo": True,
            "config_template": "solo.tmpl",
            "execute_command": "chef-solo -c {{.ConfigPath}} {{if .Sudo}}sudo{{end}}",
            "staging_directory": "/st",
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    assert comm.files["/st/solo.rb"] == b'cookbook_path []\nlicense "" ops\n'
    assert comm.files["/st/node.json"] == b"{}"
    assert [c for k, c in comm.calls if k == "exec"] == [
        "mkdir -p '/st'",
        "chmod 0777 '/st'",
        "chef-solo -c /st/solo.rb ",
    ]


def test_chef_solo_failures_and_validation(tree: Path) -> None:
    prov = make(ChefSoloProvisioner, {})
    with pytest.raises(BuildError, match="Error installing Chef: Install script exited with non-zero exit status 6"):
        run(prov, RecordingComm({"curl": 6}))
    assert problems_of(
        ChefSoloProvisioner,
        {"cookbook_paths": ["nope"], "roles_path": "site.pp", "encrypted_data_bag_secret_path": "roles"},
    ) == [
        "Bad cookbook path 'nope': stat nope: no such file or directory",
        "Bad roles path 'site.pp': not a directory",
        "Bad encrypted data bag secret 'roles': is a directory",
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (1.0, "1"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (1e20, "100000000000000000000"),
        (12345678901234567890, "12345678901234567000"),
        (0.000001, "0.000001"),
        (-2.5, "-2.5"),
        ("a\x08\n\u2028é", '"a\\u0008\\n\\u2028é"'),
        (None, "null"),
        (True, "true"),
    ],
)
def test_go_json_scalars(value: Any, text: str) -> None:
    assert encode_go_json_indent(value) == text
    assert json.loads(text) == json.loads(json.dumps(value)) or isinstance(value, int)


def test_helpers() -> None:
    assert go_join("/tmp/salt", "minion") == "/tmp/salt/minion"
    assert go_join("", "salt-call") == "salt-call"
    assert go_join("/opt/bin/", "salt-call") == "/opt/bin/salt-call"
    assert go_join("/s", "/abs/path/p.yml") == "/s/abs/path/p.yml"
    uuid = time_ordered_uuid()
    assert [len(part) for part in uuid.split("-")] == [8, 4, 4, 4, 12]

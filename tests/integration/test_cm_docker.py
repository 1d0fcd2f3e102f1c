"""Configuration-management provisioners for real, in a Debian container, and against Packer 1.6.6.

Each test builds one template with imagesmith's docker builder (real ``puppet apply``, real
``salt-call --local``, real ``ansible-playbook -c local``; chef-solo and chef-client through the
recording stand-ins in tests/standins/chef, since chef cannot run here), checks the files the tool made in
the final image, then builds the same template with Packer 1.6.6 and compares the ordered guest
commands and the image's file tree (staging UUIDs and temp names normalised; caches and logs with
times left out). Build times of both are printed (``-s``); they are measured, never asserted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT
from .cm_support import DEBIAN_IMAGE, STANDINS, Run, build_with, ensure_image, listing, read_file, remove_images

pytestmark = [pytest.mark.integration, pytest.mark.compat]


@pytest.fixture
def debian_image(need_docker: None) -> str:
    ensure_image()
    return DEBIAN_IMAGE


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def write_template(root: Path, image: str, provisioners: list[dict[str, Any]]) -> Path:
    template = {
        "builders": [{"type": "docker", "image": image, "pull": False, "commit": True}],
        "provisioners": provisioners,
    }
    path = root / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def compare_with_packer(name: str, template: Path, tmp: Path, ours: Run) -> None:
    """Build with Packer 1.6.6 and require the same guest commands and the same file tree."""
    theirs = build_with("packer", template, tmp)
    try:
        assert theirs.returncode == 0, theirs.output
        print(f"\n{name}: imagesmith {ours.seconds:.1f} s, packer {theirs.seconds:.1f} s")
        assert ours.commands == theirs.commands
        ours_files, theirs_files = listing(ours.image), listing(theirs.image)
        assert sorted(ours_files) == sorted(theirs_files)
        assert {p: (e, theirs_files[p]) for p, e in ours_files.items() if e != theirs_files[p]} == {}
    finally:
        remove_images(theirs.image)


def test_puppet_masterless_real_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    write(
        tmp_path,
        {
            "site.pp": "include motd\n"
            "file { '/etc/imagesmith-puppet.txt':\n"
            "  content => \"build=${facts['packer_build_name']} type=${facts['packer_builder_type']} "
            "role=${facts['role']} greeting=${lookup('greeting')}\\n\",\n"
            "  mode => '0644',\n}\n",
            "modules/motd/manifests/init.pp": "class motd {\n"
            "  file { '/etc/motd-puppet': content => epp('motd/motd.epp') }\n}\n",
            "modules/motd/templates/motd.epp": "Welcome to <%= $facts['role'] %>\n",
            "hieradata/common.yaml": "greeting: hello from hiera\n",
            "hiera.yaml": "---\nversion: 5\ndefaults:\n  datadir: /tmp/packer-puppet-masterless/module-1\n"
            "  data_hash: yaml_data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
        },
    )
    template = write_template(
        tmp_path,
        debian_image,
        [
            {
                "type": "puppet-masterless",
                "manifest_file": "site.pp",
                "module_paths": ["modules", "hieradata"],
                "hiera_config_path": "hiera.yaml",
                "facter": {"role": "webserver"},
                "extra_arguments": ["--color=false"],
            }
        ],
    )
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        text = read_file(ours.image, "/etc/imagesmith-puppet.txt")
        assert text == "build=docker type=docker role=webserver greeting=hello from hiera\n"
        assert read_file(ours.image, "/etc/motd-puppet") == "Welcome to webserver\n"
        assert "Running Puppet: cd /tmp/packer-puppet-masterless && FACTER_packer_build_name='docker' " in ours.output
        compare_with_packer("puppet-masterless", template, tmp_path, ours)
    finally:
        remove_images(ours.image)


def test_salt_masterless_real_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    write(
        tmp_path,
        {
            "states/top.sls": "base:\n  '*':\n    - web\n",
            "states/web.sls": "/etc/imagesmith-salt.txt:\n  file.managed:\n"
            "    - source: salt://files/greeting.jinja\n    - template: jinja\n    - mode: '0644'\n",
            "states/files/greeting.jinja": "role={{ grains['role'] }} greeting={{ pillar['greeting'] }}\n",
            "pillar/top.sls": "base:\n  '*':\n    - common\n",
            "pillar/common.sls": "greeting: hello from pillar\n",
            "grains": "role: saltweb\n",
        },
    )
    # skip_bootstrap: the default downloads the salt bootstrap script, which needs the internet;
    # the Debian image has salt already.
    template = write_template(
        tmp_path,
        debian_image,
        [
            {
                "type": "salt-masterless",
                "skip_bootstrap": True,
                "local_state_tree": "states",
                "local_pillar_roots": "pillar",
                "grains_file": "grains",
                "log_level": "warning",
            }
        ],
    )
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        assert read_file(ours.image, "/etc/imagesmith-salt.txt") == "role=saltweb greeting=hello from pillar\n"
        assert read_file(ours.image, "/etc/salt/grains") == "role: saltweb\n"
        compare_with_packer("salt-masterless", template, tmp_path, ours)
    finally:
        remove_images(ours.image)


def test_ansible_local_real_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    write(
        tmp_path,
        {
            "pb/play.yml": "- hosts: web\n  gather_facts: false\n  roles: [greeter]\n  tasks:\n"
            "    - copy: {src: files/hello.txt, dest: /etc/imagesmith-ansible-copy.txt, mode: '0644'}\n",
            "pb/files/hello.txt": "copied by ansible\n",
            "roles/greeter/tasks/main.yml": "- template: {src: greeting.j2, dest: /etc/imagesmith-ansible.txt}\n",
            "roles/greeter/templates/greeting.j2": "build={{ packer_build_name }} type={{ packer_builder_type }} "
            "greeting={{ greeting }}\n",
            "group_vars/web.yml": "greeting: hello from group_vars\n",
        },
    )
    template = write_template(
        tmp_path,
        debian_image,
        [
            {
                "type": "ansible-local",
                "playbook_dir": "pb",
                "playbook_file": "pb/play.yml",
                "role_paths": ["roles/greeter"],
                "group_vars": "group_vars",
                "inventory_groups": ["web"],
                "extra_arguments": ["-e", "ansible_python_interpreter=/usr/bin/python3"],
            }
        ],
    )
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        text = read_file(ours.image, "/etc/imagesmith-ansible.txt")
        assert text == "build=docker type=docker greeting=hello from group_vars\n"
        assert read_file(ours.image, "/etc/imagesmith-ansible-copy.txt") == "copied by ansible\n"
        compare_with_packer("ansible-local", template, tmp_path, ours)
    finally:
        remove_images(ours.image)


def chef_seed_tree(root: Path) -> None:
    write(
        root,
        {
            "cookbooks/db/recipes/server.rb": "package 'postgresql'\n",
            "cookbooks/app1/recipes/default.rb": "service 'app1'\n",
            "roles/db-server.json": json.dumps({"name": "db-server", "run_list": ["recipe[db::server]"]}),
            "roles/app1.rb": 'name "app1"\nrun_list "recipe[app1]"\n',
            "data_bags/users/admin.json": '{"id": "admin"}\n',
            ".chef/encrypted_data_bag_secret": "s3cr3t\n",
        },
    )


#: the issue's seed-style block, unchanged
SEED_BLOCK = {
    "type": "chef-solo",
    "cookbook_paths": ["cookbooks"],
    "roles_path": "roles",
    "data_bags_path": "data_bags",
    "encrypted_data_bag_secret_path": ".chef/encrypted_data_bag_secret",
    "run_list": ["role[db-server]", "role[app1]"],
}
#: puts the recording stand-ins (chef-solo, and a curl that serves an installer for it) into the guest
STANDIN_SETUP: list[dict[str, Any]] = [
    {"type": "file", "source": str(STANDINS) + "/", "destination": "/opt/chef-standin"},
    {"type": "file", "source": str(STANDINS / "curl"), "destination": "/usr/local/bin/curl"},
]


def test_chef_solo_seed_block_with_standin_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    chef_seed_tree(tmp_path)
    template = write_template(tmp_path, debian_image, [*STANDIN_SETUP, SEED_BLOCK])
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        s = "/tmp/packer-chef-solo"
        assert read_file(ours.image, "/var/log/chef-standin/run-1/expanded-run-list") == "db::server\napp1::default\n"
        calls = [json.loads(line) for line in read_file(ours.image, "/var/log/chef-standin/calls.jsonl").splitlines()]
        assert [c["argv"] for c in calls] == [["--no-color", "-c", f"{s}/solo.rb", "-j", f"{s}/node.json"]]
        assert read_file(ours.image, "/var/log/chef-standin/install.log") == "install.sh \n"
        assert read_file(ours.image, f"{s}/encrypted_data_bag_secret") == "s3cr3t\n"
        assert 'chef_license \t\t"accept-silent"' in read_file(ours.image, "/var/log/chef-standin/run-1/solo.rb")
        assert "Run List expands to [db::server" in ours.output  # machine-readable output escapes commas
        compare_with_packer("chef-solo (stand-in)", template, tmp_path, ours)
    finally:
        remove_images(ours.image)


def test_chef_client_with_standin_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    write(tmp_path, {"keys/validation.pem": "VALIDATOR KEY\n", "secret": "s3cr3t\n"})
    provisioner = {
        "type": "chef-client",
        "server_url": "https://chef.example.test/organizations/ops",
        "validation_key_path": "keys/validation.pem",
        "validation_client_name": "ops-validator",
        "encrypted_data_bag_secret_path": "secret",
        "node_name": "imagesmith-node",
        "chef_environment": "prod",
        "ssl_verify_mode": "verify_none",
        "run_list": ["role[web]"],
        "json": {"app": {"port": 8080}},
    }
    template = write_template(tmp_path, debian_image, [*STANDIN_SETUP, provisioner])
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        s, log = "/tmp/packer-chef-client", "/var/log/chef-standin"
        calls = [json.loads(line) for line in read_file(ours.image, f"{log}/calls.jsonl").splitlines()]
        assert [[c["tool"], *c["argv"]] for c in calls] == [
            ["chef-client", "--no-color", "-c", f"{s}/client.rb", "-j", f"{s}/first-boot.json"],
            ["knife", "node", "delete", "imagesmith-node", "-y", "-c", f"{s}/knife.rb"],
            ["knife", "client", "delete", "imagesmith-node", "-y", "-c", f"{s}/knife.rb"],
        ]
        assert read_file(ours.image, f"{log}/run-1/validation.pem") == "VALIDATOR KEY\n"
        assert read_file(ours.image, f"{log}/run-1/encrypted_data_bag_secret") == "s3cr3t\n"
        assert 'validation_client_name "ops-validator"' in read_file(ours.image, f"{log}/run-1/client.rb")
        files = listing(ours.image)
        assert not [p for p in files if p.startswith(("tmp/packer-chef-client", f"{log[1:]}/server/nodes/"))]
        assert not [p for p in files if p.startswith(f"{log[1:]}/server/clients/")]
        compare_with_packer("chef-client (stand-in)", template, tmp_path, ours)
    finally:
        remove_images(ours.image)


PUPPET_STANDIN = ROOT / "tests" / "standins" / "puppet" / "puppet"


def test_puppet_server_with_standin_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    write(tmp_path, {"certs/node.pem": "CERT\n", "certs/ca.pem": "CA\n", "keys/node.pem": "KEY\n"})
    provisioner = {
        "type": "puppet-server",
        "puppet_server": "puppet.example.test",
        "puppet_node": "web-1",
        "client_cert_path": "certs",
        "client_private_key_path": "keys",
        "facter": {"role": "web"},
        "extra_arguments": ["--environment=production"],
    }
    standin = {"type": "file", "source": str(PUPPET_STANDIN), "destination": "/usr/local/bin/puppet"}
    template = write_template(tmp_path, debian_image, [standin, provisioner])
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        calls = read_file(ours.image, "/var/log/puppet-standin/calls.jsonl").splitlines()
        [call] = [json.loads(line) for line in calls]
        s = "/tmp/packer-puppet-server"
        assert call["argv"] == [
            "agent", "--onetime", "--no-daemonize", "--detailed-exitcodes", "--server=puppet.example.test",
            "--certname=web-1", f"--certdir={s}/certs", f"--privatekeydir={s}/private_keys", "--environment=production",
        ]  # fmt: skip
        assert call["facts"] == {
            "FACTER_packer_build_name": "docker",
            "FACTER_packer_builder_type": "docker",
            "FACTER_role": "web",
        }
        assert call["copied"] == {"certs": ["ca.pem", "node.pem"], "private_keys": ["node.pem"]}
        assert read_file(ours.image, "/var/log/puppet-standin/private_keys/node.pem") == "KEY\n"
        compare_with_packer("puppet-server (stand-in)", template, tmp_path, ours)
    finally:
        remove_images(ours.image)


CONVERGE_STANDIN = ROOT / "tests" / "standins" / "converge" / "converge"


def test_converge_with_standin_and_vs_packer(tmp_path: Path, debian_image: str, need_packer: None) -> None:
    # no excluded file here: Packer's docker communicator ignores "exclude" (imagesmith's honours it)
    write(tmp_path, {"converge/app.hcl": 'file "greeting" { destination = "/etc/greeting" }\n'})
    provisioner = {
        "type": "converge",
        "module_dirs": [{"source": "converge/", "destination": "/opt/converge", "exclude": [".git"]}],
        "module": "/opt/converge/app.hcl",
        "params": {"greeting": "hello", "who": "<world>"},
    }
    standin = {"type": "file", "source": str(CONVERGE_STANDIN), "destination": "/usr/local/bin/converge"}
    template = write_template(tmp_path, debian_image, [standin, provisioner])
    ours = build_with("imagesmith", template, tmp_path)
    try:
        assert ours.returncode == 0, ours.output
        calls = read_file(ours.image, "/var/log/converge-standin/calls.jsonl").splitlines()
        [call] = [json.loads(line) for line in calls]
        assert call["params"] == {"greeting": "hello", "who": "<world>"}
        assert call["cwd"] == "/tmp"
        assert call["argv"][:3] == ["apply", "--local", "--log-level=WARNING"]
        assert read_file(ours.image, "/opt/converge/app.hcl").startswith('file "greeting"')
        compare_with_packer("converge (stand-in)", template, tmp_path, ours)
    finally:
        remove_images(ours.image)

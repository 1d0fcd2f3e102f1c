"""Unit tests of chef-client against a recording communicator (Packer 1.6.6 behaviour, read from its source)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.errors import BuildError
from imagesmith.provisioners.chef_client import ChefClientProvisioner

from .cm_fakes import RecordingComm, make, make_tree, problems_of, run

S = "/tmp/packer-chef-client"
URL = "https://chef.example.test/organizations/ops"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_tree(tmp_path, monkeypatch)
    (tmp_path / "validation.pem").write_text("VALIDATOR KEY\n")
    return tmp_path


def execs(comm: RecordingComm) -> list[str]:
    return [c for k, c in comm.calls if k == "exec"]


def test_chef_client_files_commands_and_knife_cleanup(tree: Path) -> None:
    prov = make(
        ChefClientProvisioner,
        {
            "server_url": URL,
            "validation_key_path": "validation.pem",
            "node_name": "web-1",
            "run_list": ["role[web]"],
            "json": {"app": {"port": 8080}},
            "version": "16.4",
        },
    )
    comm = RecordingComm()
    ui = run(prov, comm)
    assert execs(comm) == [
        "curl -L https://omnitruck.chef.io/install.sh | sudo bash -s -- -v 16.4",
        f"sudo mkdir -p '{S}'",
        f"sudo chmod 0777 '{S}'",
        f"sudo chef-client --no-color -c {S}/client.rb -j {S}/first-boot.json",
        f"sudo knife node delete web-1 -y -c {S}/knife.rb",
        f"sudo knife client delete web-1 -y -c {S}/knife.rb",
        f"sudo rm -rf '{S}'",
    ]
    uploads = [dst for kind, dst in comm.calls if kind == "upload"]
    assert uploads == [f"{S}/validation.pem", f"{S}/client.rb", f"{S}/first-boot.json", f"{S}/knife.rb"]
    assert comm.files[f"{S}/validation.pem"] == b"VALIDATOR KEY\n"
    header = (
        f'\nlog_level        :info\nlog_location     STDOUT\nchef_server_url  "{URL}"\n'
        f'client_key       "{S}/client.pem"\n'
    )
    assert comm.files[f"{S}/client.rb"].decode() == (
        header + 'chef_license     "accept-silent"\n'
        "\n"
        '\nvalidation_client_name "chef-validator"\n\n'
        f'\nvalidation_key "{S}/validation.pem"\n\n'
        'node_name "web-1"\n'
        "\n\n\n\n\n"
    )
    assert comm.files[f"{S}/knife.rb"].decode() == header + 'node_name "web-1"\n\n\n'
    first_boot = '{\n  "app": {\n    "port": 8080\n  },\n  "run_list": [\n    "role[web]"\n  ]\n}'
    assert comm.files[f"{S}/first-boot.json"].decode() == first_boot
    said = [text for kind, text in ui.lines if kind == "say"]
    assert said == ["Cleaning up chef node...", "Cleaning up chef client..."]
    messages = [text for kind, text in ui.lines if kind == "message"]
    assert "Uploading validation.pem..." in messages
    assert messages[-1] == f"Removing directory: {S}"


def test_chef_client_every_client_rb_option(tree: Path) -> None:
    prov = make(
        ChefClientProvisioner,
        {
            "server_url": URL,
            "skip_install": True,
            "client_key": "/etc/chef/client.pem",
            "encrypted_data_bag_secret_path": "secret",
            "validation_client_name": "ops-validator",
            "chef_environment": "prod",
            "policy_group": "pg",
            "policy_name": "pn",
            "ssl_verify_mode": "verify_none",
            "trusted_certs_dir": "/etc/chef/trusted_certs",
            "staging_directory": "/st",
            "prevent_sudo": True,
            "skip_clean_node": True,
            "skip_clean_staging_directory": True,
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    client_rb = comm.files["/st/client.rb"].decode()
    node = client_rb.split('node_name "', 1)[1].split('"', 1)[0]
    assert node.startswith("packer-") and len(node) == len("packer-") + 36
    assert client_rb == (
        f'\nlog_level        :info\nlog_location     STDOUT\nchef_server_url  "{URL}"\n'
        'client_key       "/etc/chef/client.pem"\n'
        'chef_license     ""\n'
        '\nencrypted_data_bag_secret "/st/encrypted_data_bag_secret"\n\n'
        '\nvalidation_client_name "ops-validator"\n\n'
        "\n"
        f'node_name "{node}"\n'
        '\nenvironment "prod"\n\n'
        '\npolicy_group "pg"\n\n'
        '\npolicy_name "pn"\n\n'
        "\nssl_verify_mode :verify_none\n\n"
        '\ntrusted_certs_dir "/etc/chef/trusted_certs"\n\n'
    )
    assert comm.files["/st/first-boot.json"] == b"{}"
    assert execs(comm) == [
        "mkdir -p '/st'",
        "chmod 0777 '/st'",
        "chef-client --no-color -c /st/client.rb -j /st/first-boot.json",
        f"knife client delete {node} -y -c /st/knife.rb",
    ]
    assert (
        comm.files["/st/knife.rb"]
        .decode()
        .endswith(
            f'node_name "{node}"\n\nssl_verify_mode :verify_none\n\n\ntrusted_certs_dir "/etc/chef/trusted_certs"\n\n'
        )
    )


def test_chef_client_custom_commands_and_template(tree: Path) -> None:
    (tree / "client.tmpl").write_text('chef_server_url "{{.ServerUrl}}" {{.NodeName}} {{user `who`}}\n')
    prov = make(
        ChefClientProvisioner,
        {
            "server_url": URL,
            "node_name": "n1",
            "config_template": "client.tmpl",
            "install_command": "install-chef {{if .Sudo}}as-root{{end}}",
            "execute_command": "run-chef {{.ConfigPath}} {{.JsonPath}}",
            "knife_command": "k {{.Args}} / {{.Flags}}",
            "skip_clean_client": True,
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    assert comm.files[f"{S}/client.rb"] == f'chef_server_url "{URL}" n1 ops\n'.encode()
    assert execs(comm) == [
        "install-chef as-root",
        f"sudo mkdir -p '{S}'",
        f"sudo chmod 0777 '{S}'",
        f"run-chef {S}/client.rb {S}/first-boot.json",
        f"k node delete n1 / -y -c {S}/knife.rb",
        f"sudo rm -rf '{S}'",
    ]
    assert 'chef_license     ""' not in comm.files[f"{S}/client.rb"].decode()


def test_chef_client_skip_all_cleanup_writes_no_knife_rb(tree: Path) -> None:
    raw = {"server_url": URL, "skip_install": True, "node_name": "n"}
    prov = make(ChefClientProvisioner, raw | {"skip_clean_node": True, "skip_clean_client": True})
    comm = RecordingComm()
    run(prov, comm)
    assert f"{S}/knife.rb" not in comm.files
    assert not any("knife" in c for c in execs(comm))


def test_chef_client_failures(tree: Path) -> None:
    raw = {"server_url": URL, "skip_install": True, "node_name": "n"}
    comm = RecordingComm({"sudo chef-client": 1})
    with pytest.raises(BuildError, match=r"^Error executing Chef: Non-zero exit status: 1$"):
        run(make(ChefClientProvisioner, raw), comm)
    # the node and client are still deleted from the server, and the staging directory removed
    assert execs(comm)[-3:] == [
        f"sudo knife node delete n -y -c {S}/knife.rb",
        f"sudo knife client delete n -y -c {S}/knife.rb",
        f"sudo rm -rf '{S}'",
    ]
    comm = RecordingComm({"sudo knife node": 100})
    with pytest.raises(BuildError) as caught:
        run(make(ChefClientProvisioner, raw), comm)
    assert str(caught.value) == (
        "Error cleaning up chef node: Failed to cleanup node: Non-zero exit status. See output above for more info."
        f"\n\nCommand: sudo knife node delete n -y -c {S}/knife.rb"
    )
    with pytest.raises(BuildError, match=r"^Error copying validation key: open gone\.pem: no such file or directory$"):
        run(make(ChefClientProvisioner, raw | {"validation_key_path": "gone.pem"}), RecordingComm())
    with pytest.raises(BuildError, match=r"^Error installing Chef: Install script exited with non-zero exit status 6$"):
        run(make(ChefClientProvisioner, {"server_url": URL}), RecordingComm({"curl": 6}))


def test_chef_client_validation(tree: Path) -> None:
    assert problems_of(
        ChefClientProvisioner,
        {"config_template": "nope.rb", "encrypted_data_bag_secret_path": "roles", "policy_name": "p"},
    ) == [
        "Bad config template path: stat nope.rb: no such file or directory",
        "server_url must be set",
        "Bad encrypted data bag secret 'roles': is a directory",
        "If either policy_name or policy_group are set, they must both be set.",
    ]
    assert problems_of(ChefClientProvisioner, {"server_url": URL, "guest_os_type": "BeOS"}) == [
        'Invalid guest_os_type: "beos"'
    ]
    assert problems_of(ChefClientProvisioner, {"server_url": URL, "elevated_user": "admin"}) == [
        "elevated_user: the Windows elevated runner is not supported by imagesmith yet"
    ]


def test_chef_client_windows_defaults(tree: Path) -> None:
    prov = make(
        ChefClientProvisioner, {"server_url": URL, "guest_os_type": "windows", "skip_install": True, "node_name": "w"}
    )
    comm = RecordingComm()
    run(prov, comm)
    w = "C:/Windows/Temp/packer-chef-client"
    assert execs(comm)[2:] == [
        f"c:/opscode/chef/bin/chef-client.bat --no-color -c {w}/client.rb -j {w}/first-boot.json",
        f"c:/opscode/chef/bin/knife.bat node delete w -y -c {w}/knife.rb",
        f"c:/opscode/chef/bin/knife.bat client delete w -y -c {w}/knife.rb",
        f'powershell.exe -Command "rm {w} -recurse -force"',
    ]

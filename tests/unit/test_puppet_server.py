"""Unit tests of the puppet-server provisioner against a recording communicator (Packer 1.6.6 behaviour)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.errors import BuildError
from imagesmith.provisioners.puppet_server import PuppetServerProvisioner

from .cm_fakes import RecordingComm, make, make_tree, problems_of, run


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "certs").mkdir()
    (tmp_path / "keys").mkdir()
    return make_tree(tmp_path, monkeypatch)


def test_uploads_certs_and_keys_then_runs_the_agent(tree: Path) -> None:
    prov = make(
        PuppetServerProvisioner,
        {
            "client_cert_path": "certs",
            "client_private_key_path": "keys",
            "puppet_server": "ps",
            "puppet_node": "n1",
            "facter": {"z": "1"},
            "extra_arguments": ["--noop", "--tags={{.PuppetNode}}"],
            "clean_staging_directory": True,
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    s = "/tmp/packer-puppet-server"
    assert comm.calls == [
        ("exec", f"sudo mkdir -p '{s}'"),
        ("exec", f"sudo chmod 0777 '{s}'"),
        ("exec", f"sudo mkdir -p '{s}/certs'"),
        ("exec", f"sudo chmod 0777 '{s}/certs'"),
        ("upload_dir", f"{s}/certs <- certs/"),
        ("exec", f"sudo mkdir -p '{s}/private_keys'"),
        ("exec", f"sudo chmod 0777 '{s}/private_keys'"),
        ("upload_dir", f"{s}/private_keys <- keys/"),
        (
            "exec",
            f"cd {s} && FACTER_packer_build_name='web' FACTER_packer_builder_type='docker' FACTER_z='1' "
            "sudo -E puppet agent --onetime --no-daemonize --detailed-exitcodes --server='ps' --certname='n1' "
            f"--certdir='{s}/certs' --privatekeydir='{s}/private_keys' --noop --tags=n1 ",
        ),
        ("exec", f"sudo rm -rf '{s}'"),
    ]


def test_exit_codes_and_prevent_sudo(tree: Path) -> None:
    failing = RecordingComm({"cd ": 1})
    with pytest.raises(BuildError, match="Puppet exited with a non-zero exit status: 1"):
        run(make(PuppetServerProvisioner, {}), failing)
    run(make(PuppetServerProvisioner, {"ignore_exit_codes": True}), RecordingComm({"cd ": 1}))
    changed = RecordingComm({"cd ": 2})
    run(make(PuppetServerProvisioner, {"prevent_sudo": True, "staging_dir": "/s", "puppet_bin_dir": "/b"}), changed)
    assert changed.calls[-1] == (
        "exec",
        "cd /s && FACTER_packer_build_name='web' FACTER_packer_builder_type='docker' "
        "/b/puppet agent --onetime --no-daemonize --detailed-exitcodes ",
    )


def test_checks(tree: Path) -> None:
    assert problems_of(PuppetServerProvisioner, {"guest_os_type": "beos", "client_cert_path": "nope"}) == [
        'Invalid guest_os_type: "beos"'
    ]
    assert problems_of(PuppetServerProvisioner, {"client_cert_path": "nope", "client_private_key_path": "site.pp"}) == [
        "client_cert_dir is invalid: stat nope: no such file or directory",
        "client_private_key_dir must point to a directory",
    ]

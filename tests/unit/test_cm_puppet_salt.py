"""Unit tests of puppet-masterless and salt-masterless against a recording communicator.

They pin the exact guest commands, staging layout and generated files of Packer 1.6.6's
puppet-masterless, salt-masterless, ansible-local and chef-solo (read from its source); the
integration tests run the real tools and compare with Packer itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.errors import BuildError
from imagesmith.provisioners.puppet_masterless import PuppetMasterlessProvisioner
from imagesmith.provisioners.salt_masterless import SaltMasterlessProvisioner

from .cm_fakes import ListUi, RecordingComm, make, make_tree, problems_of, run


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_tree(tmp_path, monkeypatch)


def test_puppet_commands_and_staging(tree: Path) -> None:
    prov = make(
        PuppetMasterlessProvisioner,
        {
            "manifest_file": "site.pp",
            "module_paths": ["modules/a", "modules/b"],
            "hiera_config_path": "hiera.yaml",
            "facter": {"role": "web", "packer_build_name": "ignored"},
            "extra_arguments": ["--verbose", "--dir={{.WorkingDir}}"],
        },
    )
    comm = RecordingComm()
    ui = run(prov, comm)
    s = "/tmp/packer-puppet-masterless"
    assert comm.calls == [
        ("exec", f"sudo mkdir -p '{s}'"),
        ("exec", f"sudo chmod 0777 '{s}'"),
        ("upload", f"{s}/hiera.yaml"),
        ("exec", f"sudo mkdir -p '{s}/module-0'"),
        ("exec", f"sudo chmod 0777 '{s}/module-0'"),
        ("upload_dir", f"{s}/module-0 <- modules/a/"),
        ("exec", f"sudo mkdir -p '{s}/module-1'"),
        ("exec", f"sudo chmod 0777 '{s}/module-1'"),
        ("upload_dir", f"{s}/module-1 <- modules/b/"),
        ("exec", f"sudo mkdir -p '{s}/manifests'"),
        ("exec", f"sudo chmod 0777 '{s}/manifests'"),
        ("upload", f"{s}/manifests/site.pp"),
        (
            "exec",
            f"cd {s} && FACTER_packer_build_name='web' FACTER_packer_builder_type='docker' FACTER_role='web' "
            f"sudo -E puppet apply --detailed-exitcodes --modulepath='{s}/module-0:{s}/module-1' "
            f"--hiera_config='{s}/hiera.yaml' --verbose --dir={s} {s}/manifests/site.pp",
        ),
    ]
    assert comm.files[f"{s}/manifests/site.pp"] == b"site.pp\n"
    assert ("say", "Provisioning with Puppet...") in ui.lines


@pytest.mark.parametrize(("status", "fails"), [(0, False), (2, False), (1, True), (4, True), (6, True)])
def test_puppet_detailed_exit_codes(tree: Path, status: int, fails: bool) -> None:
    prov = make(PuppetMasterlessProvisioner, {"manifest_file": "site.pp"})
    comm = RecordingComm({"cd ": status})
    if fails:
        with pytest.raises(BuildError, match=f"Puppet exited with a non-zero exit status: {status}"):
            run(prov, comm)
    else:
        run(prov, comm)
    ignoring = make(PuppetMasterlessProvisioner, {"manifest_file": "site.pp", "ignore_exit_codes": True})
    run(ignoring, RecordingComm({"cd ": status}))


def test_puppet_prevent_sudo_bin_dir_workdir_and_clean(tree: Path) -> None:
    prov = make(
        PuppetMasterlessProvisioner,
        {
            "manifest_file": "site.pp",
            "prevent_sudo": True,
            "puppet_bin_dir": "/opt/puppetlabs/bin",
            "staging_directory": "/var/stage",
            "working_directory": "/etc/puppet",
            "clean_staging_directory": True,
            "manifest_dir": "manifests",
        },
    )
    comm = RecordingComm()
    run(prov, comm)
    commands = [c for k, c in comm.calls if k == "exec"]
    assert commands[0] == "mkdir -p '/var/stage'"
    assert commands[-2].startswith(
        "cd /etc/puppet && FACTER_packer_build_name='web' FACTER_packer_builder_type='docker' "
    )
    assert (
        " /opt/puppetlabs/bin/puppet apply --detailed-exitcodes --manifestdir='/var/stage/manifests' " in commands[-2]
    )
    assert commands[-1] == "rm -rf '/var/stage'"


def test_puppet_failure_removes_staging_when_asked(tree: Path) -> None:
    prov = make(PuppetMasterlessProvisioner, {"manifest_file": "site.pp", "clean_staging_directory": True})
    comm = RecordingComm({"cd ": 1})
    ui = ListUi()
    with pytest.raises(BuildError):
        run(prov, comm, ui)
    assert comm.calls[-1] == ("exec", "sudo rm -rf '/tmp/packer-puppet-masterless'")
    assert ("error", "boom from cd ") in ui.lines  # the tool's own stderr is shown


def test_puppet_validation(tree: Path) -> None:
    assert problems_of(PuppetMasterlessProvisioner, {}) == ["A manifest_file must be specified."]
    assert problems_of(
        PuppetMasterlessProvisioner,
        {"manifest_file": "nope.pp", "module_paths": ["site.pp"], "hiera_config_path": "modules", "manifest_dir": "x"},
    ) == [
        "hiera_config_path must point to a file",
        "manifest_dir is invalid: stat x: no such file or directory",
        "manifest_file is invalid: stat nope.pp: no such file or directory",
        "module_path[0] must point to a directory",
    ]
    assert problems_of(PuppetMasterlessProvisioner, {"manifest_file": "site.pp", "guest_os_type": "BeOS"}) == [
        'Invalid guest_os_type: "beos"'
    ]


def test_puppet_windows_command(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEMROOT", "C:\\Windows")
    prov = make(PuppetMasterlessProvisioner, {"manifest_file": "site.pp", "guest_os_type": "windows"})
    comm = RecordingComm()
    run(prov, comm)
    s = "C:/Windows/Temp/packer-puppet-masterless"
    assert comm.calls[0] == (
        "exec",
        f'powershell.exe -Command "New-Item -ItemType directory -Force -ErrorAction SilentlyContinue -Path {s}"',
    )
    assert comm.calls[-1] == (
        "exec",
        f'cd {s} && SET "FACTER_packer_build_name=web" & SET "FACTER_packer_builder_type=docker" && '
        f"puppet apply --detailed-exitcodes {s}/manifests/site.pp",
    )


def test_salt_commands(tree: Path) -> None:
    prov = make(
        SaltMasterlessProvisioner,
        {
            "skip_bootstrap": True,
            "local_state_tree": "states",
            "local_pillar_roots": "pillar",
            "grains_file": "grains",
            "custom_state": "web",
            "log_level": "debug",
            "salt_call_args": "--state-output=mixed",
            "salt_bin_dir": "/opt/salt/bin/",
        },
    )
    comm = RecordingComm({"sudo stat": 1})
    run(prov, comm)
    assert comm.calls == [
        ("exec", "sudo mkdir -p '/tmp/salt'"),
        ("upload", "grains"),
        ("exec", "sudo sudo mv 'grains' '/tmp/salt/grains'"),
        ("exec", "sudo mkdir -p '/etc/salt'"),
        ("exec", "sudo sudo mv '/tmp/salt/grains' '/etc/salt/grains'"),
        ("upload_dir", "states <- states"),
        ("exec", "sudo sudo mv 'states' '/tmp/salt/states'"),
        ("exec", "sudo stat '/srv/salt'"),
        ("exec", "sudo rm -rf '/srv/salt'"),
        ("exec", "sudo sudo mv '/tmp/salt/states' '/srv/salt'"),
        ("upload_dir", "pillar <- pillar"),
        ("exec", "sudo sudo mv 'pillar' '/tmp/salt/pillar'"),
        ("exec", "sudo stat '/srv/pillar'"),
        ("exec", "sudo rm -rf '/srv/pillar'"),
        ("exec", "sudo sudo mv '/tmp/salt/pillar' '/srv/pillar'"),
        (
            "exec",
            "sudo /opt/salt/bin/salt-call --local  state.sls web --file-root=/srv/salt --pillar-root=/srv/pillar "
            "--retcode-passthrough -l debug --state-output=mixed",
        ),
    ]


def test_salt_bootstrap_minion_and_failure(tree: Path) -> None:
    prov = make(
        SaltMasterlessProvisioner,
        {"local_state_tree": "states", "minion_config": "minion", "disable_sudo": True, "bootstrap_args": "-x python3"},
    )
    comm = RecordingComm({"curl ": 7, "sh /tmp": 1, "salt-call": 3})
    with pytest.raises(BuildError, match="Error executing salt-call: Bad exit status: 3"):
        run(prov, comm)
    commands = [c for k, c in comm.calls if k == "exec"]
    assert commands[:2] == [
        "curl -L https://bootstrap.saltstack.com -o /tmp/install_salt.sh || "
        "wget -O /tmp/install_salt.sh https://bootstrap.saltstack.com",
        "sh /tmp/install_salt.sh -x python3",
    ]
    assert "mv 'minion' '/tmp/salt/minion'" in commands
    assert commands[-1] == "salt-call --local  state.highstate --retcode-passthrough -l info"
    lenient = make(
        SaltMasterlessProvisioner, {"local_state_tree": "states", "no_exit_on_failure": True, "skip_bootstrap": True}
    )
    run(lenient, RecordingComm({"sudo salt-call": 3}))


def test_salt_validation(tree: Path) -> None:
    assert problems_of(SaltMasterlessProvisioner, {}) == ["local_state_tree cannot be empty"]
    assert problems_of(
        SaltMasterlessProvisioner,
        {"local_state_tree": "site.pp", "minion_config": "states", "remote_state_tree": "/x", "grains_file": "no"},
    ) == [
        "local_state_tree: path 'site.pp' must point to a directory",
        "minion_config: path 'states' must point to a file",
        "remote_state_tree and remote_pillar_roots only apply when minion_config is not used",
        "grains_file: path 'no' is invalid: stat no: no such file or directory",
    ]

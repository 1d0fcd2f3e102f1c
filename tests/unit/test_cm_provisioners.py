"""Unit tests of the configuration-management provisioners against a recording communicator.

They pin the exact guest commands, staging layout and generated files of Packer 1.6.6's
puppet-masterless, salt-masterless, ansible-local and chef-solo (read from its source); the
integration tests run the real tools and compare with Packer itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from imagesmith.core.plugin import BuildInfo, Communicator, LineCallback, Provisioner
from imagesmith.errors import BuildError, Problem
from imagesmith.provisioners.ansible_local import AnsibleLocalProvisioner
from imagesmith.provisioners.chef_solo import ChefSoloProvisioner
from imagesmith.provisioners.cm_common import encode_go_json_indent, go_join, time_ordered_uuid
from imagesmith.provisioners.puppet_masterless import PuppetMasterlessProvisioner
from imagesmith.provisioners.salt_masterless import SaltMasterlessProvisioner
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

INFO = BuildInfo(build_name="web", builder_type="docker", user_variables={"who": "ops"})
DATA = {"PackerHTTPAddr": "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER", "ID": "abc"}


class RecordingComm(Communicator):
    """Records commands and uploads; exit statuses come from ``statuses`` (command prefix → status)."""

    def __init__(self, statuses: Mapping[str, int] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.files: dict[str, bytes] = {}
        self.statuses = dict(statuses or {})

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        self.calls.append(("exec", command))
        for prefix, status in self.statuses.items():
            if command.startswith(prefix):
                if stderr:
                    stderr(f"boom from {prefix}")
                return status
        return 0

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        self.calls.append(("upload", dst))
        self.files[dst] = src if isinstance(src, bytes) else src.read_bytes()

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        self.calls.append(("upload_dir", f"{dst} <- {src}"))

    async def download(self, src: str, dst: Path) -> None:
        raise AssertionError("not used")

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        raise AssertionError("not used")


class ListUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))


def make(cls: type[Provisioner], raw: Mapping[str, Any]) -> Provisioner:
    problems: list[Problem] = []
    config: Any = decode_config(cls.config_class, raw, render=None, path="provisioners[0]", problems=problems)
    assert problems == []
    return cls(config, INFO)


def problems_of(cls: type[Provisioner], raw: Mapping[str, Any]) -> list[str]:
    problems: list[Problem] = []
    decode_config(cls.config_class, raw, render=None, path="provisioners[0]", problems=problems)
    return [p.message for p in problems]


def run(prov: Provisioner, comm: RecordingComm, ui: Ui | None = None) -> ListUi:
    the_ui = ui or ListUi()
    asyncio.run(prov.provision(the_ui, comm, DATA))
    assert isinstance(the_ui, ListUi)
    return the_ui


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for d in ("manifests", "modules/a", "modules/b", "states", "pillar", "roles/web", "group_vars", "cookbooks/app"):
        (tmp_path / d).mkdir(parents=True)
    for f in ("site.pp", "hiera.yaml", "minion", "grains", "play.yml", "galaxy.yml", "secret"):
        (tmp_path / f).write_text(f"{f}\n")
    return tmp_path


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

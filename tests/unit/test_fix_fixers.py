"""Table tests for each of ``packer fix``'s fixers, ported from Packer's ``fix/fixer_*_test.go``.

Each case is (fixer name, input template, expected output of that one fixer). The same inputs are
run through Packer 1.6.6 and imagesmith's whole fix pipeline in tests/compat/test_fix_vs_packer.py.
Cases marked ``crashes_packer`` are inputs on which Packer 1.6.6 panics; imagesmith's behaviour for
them is the documented improvement and is tested here only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from imagesmith.template.fix import FIXERS, FIXERS_BY_NAME, FixError, fix_template


@dataclass(frozen=True)
class Case:
    fixer: str
    given: dict[str, Any]
    expected: dict[str, Any] | None  # None: the fixer must raise FixError
    crashes_packer: bool = False
    note: str = field(default="")


def B(*builders: Any, **extra: Any) -> dict[str, Any]:
    """A template with these builders (and other root keys)."""
    return {"builders": list(builders), **extra}


def P(*provisioners: Any, **extra: Any) -> dict[str, Any]:
    return {"provisioners": list(provisioners), **extra}


def PP(*pps: Any, **extra: Any) -> dict[str, Any]:
    return {"post-processors": list(pps), **extra}


CASES: list[Case] = [
    # iso-md5
    Case(
        "iso-md5",
        B({"type": "foo", "iso_md5": "MD5"}),
        B({"type": "foo", "iso_checksum": "MD5", "iso_checksum_type": "md5"}),
    ),
    Case("iso-md5", B({"type": "foo", "iso_md5": 5}), B({"type": "foo", "iso_md5": 5}), note="non-string left alone"),
    Case("iso-md5", {"variables": {}}, {"variables": {}, "builders": None}, note="builders:null is always added"),
    # createtime
    Case(
        "createtime",
        B({"type": "foo", "ami_name": "{{.CreateTime}} foo"}),
        B({"type": "foo", "ami_name": "{{timestamp}} foo"}),
    ),
    Case(
        "createtime",
        B(
            {
                "type": "foo",
                "snapshot_name": "a-{{ .CreateTime }}",
                "bundle_prefix": "{{.CreateTime}}",
                "x": "{{.CreateTime}}",
            }
        ),
        B(
            {
                "type": "foo",
                "snapshot_name": "a-{{timestamp}}",
                "bundle_prefix": "{{timestamp}}",
                "x": "{{.CreateTime}}",
            }
        ),
    ),
    # virtualbox-gaattach
    Case(
        "virtualbox-gaattach",
        B({"type": "virtualbox", "guest_additions_attach": False}),
        B({"type": "virtualbox", "guest_additions_mode": "upload"}),
    ),
    Case(
        "virtualbox-gaattach",
        B({"type": "virtualbox", "guest_additions_attach": True}),
        B({"type": "virtualbox", "guest_additions_mode": "attach"}),
    ),
    Case(
        "virtualbox-gaattach",
        B({"type": "virtualbox-iso", "guest_additions_attach": True}),
        B({"type": "virtualbox-iso", "guest_additions_attach": True}),
    ),
    # pp-vagrant-override
    Case(
        "pp-vagrant-override",
        PP(
            "foo",
            {"type": "vagrant", "aws": {"foo": "bar"}},
            {"type": "vsphere"},
            [{"type": "vagrant", "vmware": {"foo": "bar"}}],
        ),
        PP(
            "foo",
            {"type": "vagrant", "override": {"aws": {"foo": "bar"}}},
            {"type": "vsphere"},
            [{"type": "vagrant", "override": {"vmware": {"foo": "bar"}}}],
        ),
    ),
    Case("pp-vagrant-override", B({"type": "a"}), B({"type": "a"}), note="no post-processors: untouched"),
    # virtualbox-rename
    Case("virtualbox-rename", B({"type": "virtualbox"}), B({"type": "virtualbox-iso"})),
    Case(
        "virtualbox-rename",
        P({"override": {"virtualbox": {}}}),
        P({"override": {"virtualbox-iso": {}}}),
    ),
    Case(
        "virtualbox-rename",
        B({"type": "a"}, provisioners={"type": "shell"}),
        B({"type": "a"}, provisioners=[{"type": "shell"}]),
        note="a single provisioner object is lifted into a list",
    ),
    Case(
        "virtualbox-rename",
        B({"type": "a"}, provisioners=[[{"override": {"virtualbox": 1}}, {"type": "shell"}], [], {}]),
        B({"type": "a"}, provisioners=[{"override": {"virtualbox-iso": 1}, "type": "shell"}, [], {}]),
        note="weak decoding merges a list of objects",
    ),
    Case("virtualbox-rename", B({"type": "a"}, provisioners=[{"override": "x"}]), None, note="'' expected a map"),
    # vmware-rename
    Case("vmware-rename", B({"type": "vmware"}), B({"type": "vmware-iso"})),
    # parallels
    Case("parallels-headless", B({"type": "parallels-iso", "headless": True}), B({"type": "parallels-iso"})),
    Case("parallels-headless", B({"type": "parallels-pvm", "headless": False}), B({"type": "parallels-pvm"})),
    Case("parallels-headless", B({"type": "qemu", "headless": True}), B({"type": "qemu", "headless": True})),
    Case(
        "parallels-deprecations",
        B(
            {
                "type": "parallels-iso",
                "parallels_tools_host_path": "/p",
                "guest_os_distribution": "ubuntu",
                "guest_os_type": "x",
            }
        ),
        B({"type": "parallels-iso", "guest_os_type": "ubuntu"}),
    ),
    # sshkeypath
    Case("sshkeypath", B({"type": "virtualbox"}), B({"type": "virtualbox"})),
    Case("sshkeypath", B({"ssh_private_key_file": "id_rsa"}), B({"ssh_private_key_file": "id_rsa"})),
    Case("sshkeypath", B({"ssh_key_path": "id_rsa"}), B({"ssh_private_key_file": "id_rsa"})),
    Case(
        "sshkeypath",
        B({"ssh_key_path": "key_id_rsa", "ssh_private_key_file": "private_id_rsa"}),
        B({"ssh_private_key_file": "private_id_rsa"}),
    ),
    # sshdisableagent
    Case("sshdisableagent", B({"type": "virtualbox"}), B({"type": "virtualbox"})),
    Case("sshdisableagent", B({"ssh_disable_agent_forwarding": True}), B({"ssh_disable_agent_forwarding": True})),
    Case("sshdisableagent", B({"ssh_disable_agent": True}), B({"ssh_disable_agent_forwarding": True})),
    Case(
        "sshdisableagent",
        B({"ssh_disable_agent": True, "ssh_disable_agent_forwarding": False}),
        B({"ssh_disable_agent_forwarding": False}),
    ),
    Case(
        "sshdisableagent", B({"ssh_disable_agent": "yes"}), B({"ssh_disable_agent": "yes"}), note="non-bool left alone"
    ),
    # scaleway-access-key
    Case(
        "scaleway-access-key",
        B({"type": "scaleway", "access_key": "AK"}),
        B({"type": "scaleway", "organization_id": "AK"}),
    ),
    Case(
        "scaleway-access-key",
        B({"type": "scaleway", "access_key": "AK", "organization_id": "O"}),
        B({"type": "scaleway", "organization_id": "O"}),
    ),
    Case("scaleway-access-key", B({"type": "other", "access_key": "AK"}), B({"type": "other", "access_key": "AK"})),
    # manifest-filename
    Case(
        "manifest-filename",
        PP({"type": "manifest", "filename": "foo"}, [{"type": "manifest", "filename": "foo"}]),
        PP({"type": "manifest", "output": "foo"}, [{"type": "manifest", "output": "foo"}]),
    ),
    Case("manifest-filename", B({"type": "a"}, **{"post-processors": {"type": "manifest"}}), None, note="not a list"),
    # amazon-shutdown_behavior
    Case(
        "amazon-shutdown_behavior",
        B({"type": "amazon-ebs", "shutdown_behaviour": "stop"}),
        B({"type": "amazon-ebs", "shutdown_behavior": "stop"}),
    ),
    Case(
        "amazon-shutdown_behavior",
        B({"type": "qemu", "shutdown_behaviour": "stop"}),
        B({"type": "qemu", "shutdown_behaviour": "stop"}),
    ),
    # amazon-enhanced-networking
    Case(
        "amazon-enhanced-networking",
        B({"type": "amazon-ebs", "enhanced_networking": True}),
        B({"type": "amazon-ebs", "ena_support": True}),
    ),
    Case(
        "amazon-enhanced-networking",
        B({"type": "amazon-ebs", "enhanced_networking": "true"}),
        B({"type": "amazon-ebs", "enhanced_networking": "true"}),
    ),
    # amazon-private-ip
    Case(
        "amazon-private-ip",
        B({"type": "amazon-ebs", "ssh_private_ip": False}),
        B({"type": "amazon-ebs", "ssh_interface": "public_ip"}),
    ),
    Case(
        "amazon-private-ip",
        B({"type": "amazon-ebs", "ssh_private_ip": True}),
        B({"type": "amazon-ebs", "ssh_interface": "private_ip"}),
    ),
    Case(
        "amazon-private-ip",
        B({"type": "amazon-ebs", "ssh_private_ip": "true"}),
        B({"type": "amazon-ebs", "ssh_interface": "private_ip"}),
    ),
    Case("amazon-private-ip", B({"type": "amazon-ebs", "ssh_private_ip": "not-a-boolean-value"}), None),
    Case("amazon-private-ip", B({"type": "amazon-ebs", "ssh_private_ip": 1}), None, crashes_packer=True),
    Case(
        "amazon-private-ip",
        B({"type": "amazon-ebs", "ssh_private_ip": True, "ssh_interface": "x"}),
        B({"type": "amazon-ebs", "ssh_private_ip": True, "ssh_interface": "x"}),
    ),
    # amazon-temp-sec-cidrs
    Case(
        "amazon-temp-sec-cidrs",
        B({"type": "amazon-ebs", "temporary_security_group_source_cidr": "0.0.0.0/0"}),
        B({"type": "amazon-ebs", "temporary_security_group_source_cidrs": ["0.0.0.0/0"]}),
    ),
    # docker-email
    Case(
        "docker-email",
        B(
            {"type": "docker", "login_email": "a@b"},
            **{"post-processors": [{"type": "docker-push", "login_email": "a@b"}]},
        ),
        B({"type": "docker"}, **{"post-processors": [{"type": "docker-push"}]}),
    ),
    Case(
        "docker-email",
        B({"type": "docker", "login_email": "a@b"}),
        B({"type": "docker", "login_email": "a@b"}),
        note="only with PPs",
    ),
    # docker-tag-tags
    Case(
        "docker-tag-tags",
        PP(
            {"type": "docker-tag", "tag": "foo", "tags": ["foo", "bar"]},
            [{"type": "docker-tag", "tag": ["baz"], "tags": ["foo", "bar"]}],
        ),
        PP({"type": "docker-tag", "tags": ["foo", "bar"]}, [{"type": "docker-tag", "tags": ["baz", "foo", "bar"]}]),
    ),
    Case(
        "docker-tag-tags", PP({"type": "docker-tag", "tag": "a, b,a"}), PP({"type": "docker-tag", "tags": ["a", "b"]})
    ),
    Case(
        "docker-tag-tags",
        PP({"type": "docker-tag"}),
        PP({"type": "docker-tag", "tags": []}),
        note="tags always written",
    ),
    Case("docker-tag-tags", PP({"type": "docker-tag", "tag": [1]}), None, crashes_packer=True),
    # powershell-escapes
    Case(
        "powershell-escapes",
        P(
            {
                "type": "powershell",
                "elevated_user": "a`$b",
                "elevated_password": "p``w`'",
                "environment_vars": ['X=`"1`"'],
            }
        ),
        P({"type": "powershell", "elevated_user": "a$b", "elevated_password": "p`w'", "environment_vars": ['X="1"']}),
    ),
    Case(
        "powershell-escapes",
        P({"type": "shell", "elevated_user": "a`$b"}),
        P({"type": "shell", "elevated_user": "a`$b"}),
    ),
    Case(
        "powershell-escapes",
        P({"type": "powershell", "elevated_user": "a`$b", "environment_vars": "X=1"}),
        P({"type": "powershell", "elevated_user": "a`$b", "environment_vars": "X=1"}),
        note="a non-list environment_vars makes Packer skip the whole provisioner",
    ),
    Case(
        "powershell-escapes",
        P({"type": "powershell", "environment_vars": None}),
        P({"type": "powershell", "environment_vars": []}),
    ),
    Case("powershell-escapes", P({"type": "powershell", "elevated_user": 5}), None, crashes_packer=True),
    # vmware-compaction
    Case("vmware-compaction", B({"type": "virtualbox-iso"}), B({"type": "virtualbox-iso"})),
    Case("vmware-compaction", B({"type": "vmware-iso"}), B({"type": "vmware-iso"})),
    Case(
        "vmware-compaction",
        B({"type": "vmware-iso", "remote_type": "esx5"}),
        B({"type": "vmware-iso", "remote_type": "esx5", "disk_type_id": "zeroedthick", "skip_compaction": True}),
    ),
    Case(
        "vmware-compaction",
        B({"type": "vmware-iso", "remote_type": "esx5", "disk_type_id": "zeroedthick", "skip_compaction": False}),
        B({"type": "vmware-iso", "remote_type": "esx5", "disk_type_id": "zeroedthick", "skip_compaction": True}),
    ),
    Case(
        "vmware-compaction",
        B({"type": "vmware-iso", "remote_type": "esx5", "disk_type_id": "thin"}),
        B({"type": "vmware-iso", "remote_type": "esx5", "disk_type_id": "thin"}),
    ),
    # hyperv
    Case("hyperv-deprecations", B({"type": "hyperv-iso", "vhd_temp_path": "C:/"}), B({"type": "hyperv-iso"})),
    Case(
        "hyperv-deprecations",
        B({"type": "hyperv-vmcx", "vhd_temp_path": "C:/"}),
        B({"type": "hyperv-vmcx", "vhd_temp_path": "C:/"}),
    ),
    Case(
        "hyperv-vmxc-typo",
        B({"type": "hyperv-vmcx", "clone_from_vmxc_path": "p"}),
        B({"type": "hyperv-vmcx", "clone_from_vmcx_path": "p"}),
    ),
    Case(
        "hyperv-cpu-and-ram",
        B({"type": "hyperv-iso", "cpu": 2, "ram_size": 1024}, {"type": "hyperv-vmcx", "cpu": 4}),
        B({"type": "hyperv-iso", "cpus": 2, "memory": 1024}, {"type": "hyperv-vmcx", "cpus": 4}),
    ),
    # clean-image-name
    Case(
        "clean-image-name",
        B(
            {
                "type": "googlecompute",
                "image_name": "{{clean_image_name `a`}}",
                "labels": {"k": "{{clean_ami_name `b`}}", "n": 1},
            }
        ),
        B(
            {
                "type": "googlecompute",
                "image_name": "{{clean_resource_name `a`}}",
                "labels": {"k": "{{clean_resource_name `b`}}", "n": 1},
            }
        ),
    ),
    Case(
        "clean-image-name",
        B({"type": "a", "image_labels": None}),
        B({"type": "a", "image_labels": None}),
        crashes_packer=True,
    ),
    # spot-price-auto-product
    Case(
        "spot-price-auto-product",
        B({"type": "amazon-ebs", "spot_price_auto_product": "Linux/UNIX"}),
        B({"type": "amazon-ebs"}),
    ),
    Case(
        "spot-price-auto-product",
        B({"type": "amazon-chroot", "spot_price_auto_product": "x"}),
        B({"type": "amazon-chroot", "spot_price_auto_product": "x"}),
    ),
    # qemu-disk-size
    Case("qemu-disk-size", B({"type": "qemu", "disk_size": 40960}), B({"type": "qemu", "disk_size": "40960M"})),
    Case("qemu-disk-size", B({"type": "qemu", "disk_size": 50000.0}), B({"type": "qemu", "disk_size": "50000M"})),
    Case(
        "qemu-disk-size",
        B({"type": "qemu", "disk_size": 1.9}),
        B({"type": "qemu", "disk_size": "1M"}),
        note="truncated",
    ),
    Case("qemu-disk-size", B({"type": "qemu", "disk_size": "10G"}), B({"type": "qemu", "disk_size": "10G"})),
    Case("qemu-disk-size", B({"type": "docker", "disk_size": 10}), B({"type": "docker", "disk_size": 10})),
    # galaxy-command
    Case(
        "galaxy-command",
        P({"type": "ansible-local", "galaxy_command": "/usr/local/bin/ansible-galaxy"}),
        P({"type": "ansible-local", "galaxy_command": "/usr/local/bin/ansible-galaxy"}),
    ),
    Case(
        "galaxy-command",
        P({"type": "ansible-local", "galaxycommand": "/usr/bin/ansible-galaxy"}),
        P({"type": "ansible-local", "galaxy_command": "/usr/bin/ansible-galaxy"}),
    ),
    Case(
        "galaxy-command",
        P(
            {
                "type": "ansible-local",
                "galaxy_command": "ansible_galaxy_command",
                "galaxycommand": "ansible_galaxycommand",
            }
        ),
        P({"type": "ansible-local", "galaxy_command": "ansible_galaxy_command"}),
    ),
    # comm-config
    Case(
        "comm-config",
        B({"type": "virtualbox-iso", "host_port_min": 2222}),
        B({"type": "virtualbox-iso", "host_port_min": 2222}),
    ),
    Case(
        "comm-config",
        B({"type": "virtualbox-ovf", "ssh_host_port_min": 2222}),
        B({"type": "virtualbox-ovf", "host_port_min": 2222}),
    ),
    Case(
        "comm-config",
        B({"type": "virtualbox-vm", "ssh_host_port_min": 1234, "host_port_min": 4321}),
        B({"type": "virtualbox-vm", "host_port_min": 4321}),
    ),
    Case(
        "comm-config",
        B({"type": "virtualbox-iso", "ssh_host_port_max": 4444}),
        B({"type": "virtualbox-iso", "host_port_max": 4444}),
    ),
    Case(
        "comm-config",
        B({"type": "virtualbox-vm", "ssh_host_port_max": 1234, "host_port_max": 4321}),
        B({"type": "virtualbox-vm", "host_port_max": 4321}),
    ),
    Case(
        "comm-config",
        B({"type": "virtualbox-vm", "ssh_skip_nat_mapping": True}),
        B({"type": "virtualbox-vm", "skip_nat_mapping": True}),
    ),
    Case(
        "comm-config",
        B({"type": "virtualbox-iso", "ssh_skip_nat_mapping": False, "skip_nat_mapping": True}),
        B({"type": "virtualbox-iso", "skip_nat_mapping": True}),
    ),
    Case("comm-config", B({"type": "qemu", "ssh_host_port_min": 1}), B({"type": "qemu", "ssh_host_port_min": 1})),
    Case("comm-config", B({"ssh_host_port_min": 1}, None), B({"ssh_host_port_min": 1}, None), crashes_packer=True),
    # ssh-wait-timeout
    Case("ssh-wait-timeout", B({"ssh_timeout": "1h5m2s"}), B({"ssh_timeout": "1h5m2s"})),
    Case("ssh-wait-timeout", B({"ssh_wait_timeout": "1h5m2s"}), B({"ssh_timeout": "1h5m2s"})),
    Case("ssh-wait-timeout", B({"ssh_timeout": "1h5m2s", "ssh_wait_timeout": "30m"}), B({"ssh_timeout": "1h5m2s"})),
    # vsphere-iso-net-disk
    Case(
        "vsphere-iso-net-disk",
        B({"type": "vsphere-iso", "network": "", "networkCard": "vmxnet3", "disk_size": 5000}),
        B(
            {
                "type": "vsphere-iso",
                "network_adapters": [{"network": "", "network_card": "vmxnet3"}],
                "storage": [{"disk_size": 5000}],
            }
        ),
    ),
    Case(
        "vsphere-iso-net-disk",
        B(
            {
                "type": "vsphere-iso",
                "network": "myNetwork",
                "networkCard": "vmxnet3",
                "disk_size": 5000,
                "disk_thin_provisioned": True,
                "disk_eagerly_scrub": True,
                "network_adapters": [{"network": "net1", "network_card": "vmxnet3"}],
                "storage": [{"disk_size": 5001}],
            }
        ),
        B(
            {
                "type": "vsphere-iso",
                "network_adapters": [
                    {"network": "myNetwork", "network_card": "vmxnet3"},
                    {"network": "net1", "network_card": "vmxnet3"},
                ],
                "storage": [
                    {"disk_size": 5000, "disk_thin_provisioned": True, "disk_eagerly_scrub": True},
                    {"disk_size": 5001},
                ],
            }
        ),
    ),
    Case(
        "vsphere-iso-net-disk",
        B({"type": "vsphere-iso", "network": "n", "network_adapters": None}),
        None,
        crashes_packer=True,
    ),
    # iso-checksum-type-and-url
    Case(
        "iso-checksum-type-and-url",
        B({"type": "foo", "iso_checksum_url": "bar", "iso_checksum_type": "ignored"}),
        B({"type": "foo", "iso_checksum": "file:bar"}),
    ),
    Case(
        "iso-checksum-type-and-url",
        B({"type": "foo", "iso_checksum": "checksum", "iso_checksum_type": "md5"}),
        B({"type": "foo", "iso_checksum": "md5:checksum"}),
    ),
    Case(
        "iso-checksum-type-and-url",
        B({"type": "foo", "iso_checksum": "checksum", "iso_checksum_url": "path/to/checksumfile"}),
        B({"type": "foo", "iso_checksum": "file:path/to/checksumfile"}),
    ),
    Case(
        "iso-checksum-type-and-url",
        B({"type": "foo", "iso_checksum_type": "none"}),
        B({"type": "foo"}),
        note="type without checksum is dropped",
    ),
    # qemu-host-port
    Case("qemu-host-port", B({"type": "qemu", "ssh_host_port_min": 2222}), B({"type": "qemu", "host_port_min": 2222})),
    Case("qemu-host-port", B({"type": "qemu", "ssh_host_port_max": 4444}), B({"type": "qemu", "host_port_max": 4444})),
    # azure-exclude_from_latest
    Case(
        "azure-exclude_from_latest",
        B({"type": "azure-chroot", "shared_image_destination": {"exlude_from_latest": True}}),
        B({"type": "azure-chroot", "shared_image_destination": {"exclude_from_latest": True}}),
    ),
    Case(
        "azure-exclude_from_latest",
        B({"type": "azure-arm", "shared_image_destination": {"exlude_from_latest": True}}),
        B({"type": "azure-arm", "shared_image_destination": {"exlude_from_latest": True}}),
    ),
    # proxmox-type
    Case("proxmox-type", B({"type": "proxmox"}), B({"type": "proxmox-iso"})),
    Case("proxmox-type", B({"type": "proxmox-clone"}), B({"type": "proxmox-clone"})),
]


def _case_id(case: Case) -> str:
    return f"{case.fixer}-{CASES.index(case)}"


def test_every_fixer_has_cases() -> None:
    assert {case.fixer for case in CASES} == set(FIXERS_BY_NAME)
    assert len(FIXERS) == 34


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fixer_case(case: Case) -> None:
    fixer = FIXERS_BY_NAME[case.fixer]
    given = copy.deepcopy(case.given)
    if case.expected is None:
        with pytest.raises(FixError):
            fixer.apply(given)
    else:
        assert fixer.apply(given) == case.expected
    assert given == case.given, "fixers must not modify their input"


def test_fixers_run_in_packer_order() -> None:
    names = [fixer.name for fixer in FIXERS]
    assert names[:4] == ["iso-md5", "createtime", "virtualbox-gaattach", "pp-vagrant-override"]
    assert names.index("docker-email") + 1 == names.index("docker-tag-tags")
    assert names[-3:] == ["qemu-host-port", "azure-exclude_from_latest", "proxmox-type"]


def test_pipeline_chains_fixers() -> None:
    given = B({"type": "virtualbox", "iso_md5": "abc", "ssh_wait_timeout": "5m", "ssh_host_port_min": 2222})
    assert fix_template(given) == B(
        {"type": "virtualbox-iso", "iso_checksum": "md5:abc", "ssh_timeout": "5m", "host_port_min": 2222}
    )


def test_builders_key_is_matched_case_insensitively_and_written_lower_case() -> None:
    fixed = fix_template({"Builders": [{"type": "vmware"}]})
    assert fixed == {"Builders": [{"type": "vmware"}], "builders": [{"type": "vmware"}]}


def test_decoding_errors_are_sorted_like_mapstructure() -> None:
    with pytest.raises(FixError) as info:
        fix_template({"builders": [5, True, [], "x"] + [1] * 8})
    lines = info.value.message.splitlines()
    assert lines[0] == "12 error(s) decoding:"
    assert lines[2:5] == [
        "* 'Builders[0]' expected a map, got 'float64'",
        "* 'Builders[10]' expected a map, got 'float64'",
        "* 'Builders[11]' expected a map, got 'float64'",
    ]
    assert "iso-md5" in info.value.hint

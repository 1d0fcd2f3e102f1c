"""vmware builders without VMware: the .vmx reader/writer, the template data, the edits, the
host network files and the driver's command lines (pure functions; the differential test against
Packer 1.6.6 is tests/integration/test_vmware_vs_packer.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.vmware.config import VmwareIsoConfig, VmwareVmxConfig
from imagesmith.builders.vmware.driver import (
    Driver,
    Tools,
    find_tools,
    make_clone_args,
    make_compact_args,
    make_create_disk_args,
    make_vmrun_args,
    running_vmx,
)
from imagesmith.builders.vmware.hardware import PortError, parse_parallel, parse_serial
from imagesmith.builders.vmware.network import guest_addresses, host_address, read_leases, read_netmap
from imagesmith.builders.vmware.steps.clone_vmx import attached_disks
from imagesmith.builders.vmware.steps.disks import disk_plan
from imagesmith.builders.vmware.vmx import encode_vmx, parse_vmx
from imagesmith.builders.vmware.vmx_create import (
    additional_disk_numbers,
    disk_and_cdrom,
    make_template_data,
    make_vmx,
    network_fields,
    relative_iso_path,
)
from imagesmith.builders.vmware.vmx_edit import clean_vmx, configure_vmx, configure_vnc
from imagesmith.errors import BuildError, Problem
from imagesmith.template.decode import decode_config

BASE = {"iso_url": "http://x/a.iso", "iso_checksum": "none", "ssh_username": "u"}


def decode(**raw: Any) -> tuple[VmwareIsoConfig, list[str]]:
    problems: list[Problem] = []
    cfg = decode_config(VmwareIsoConfig, {**BASE, **raw}, render=None, path="builders[0]", problems=problems)
    return cfg, [p.message for p in problems]


def vmx_for(**raw: Any) -> dict[str, str]:
    cfg = decode(**raw)[0].resolved("vmware-iso")
    return make_vmx(cfg, make_template_data(cfg, "/isos/a.iso", network_fields(cfg.network, frozenset({"nat"}))))


def test_parse_vmx_lower_cases_keys_trims_one_quote_pair_and_skips_comments() -> None:
    text = '// comment\n.encoding = "UTF-8"\nDisplayName="a b"\nx = unquoted \nY.Z = "say "hi""\nx = "later"\n\n'
    assert parse_vmx(text) == {".encoding": "UTF-8", "displayname": "a b", "x": "later", "y.z": 'say "hi"'}


def test_encode_vmx_sorts_quotes_and_keeps_virtual_ssd_unquoted_in_its_case() -> None:
    data = {"b": "2", "a": "1", "scsi0:0.virtualssd": "1"}
    assert encode_vmx(data) == 'a = "1"\nb = "2"\nscsi0:0.virtualSSD = 1\n'
    assert parse_vmx(encode_vmx(data)) == data


@pytest.mark.parametrize(
    ("disk", "cdrom", "expected"),
    [
        ("lsilogic", "", ("TRUE", "lsilogic", "FALSE", "FALSE", "scsi", "ide0:0")),
        ("scsi", "", ("TRUE", "lsilogic", "FALSE", "FALSE", "scsi", "ide0:0")),
        ("pvscsi", "", ("TRUE", "pvscsi", "FALSE", "FALSE", "scsi", "ide0:0")),
        ("ide", "", ("FALSE", "lsilogic", "FALSE", "FALSE", "ide", "ide0:1")),
        ("SATA", "", ("FALSE", "lsilogic", "TRUE", "FALSE", "sata", "sata0:1")),
        ("nvme", "", ("FALSE", "lsilogic", "TRUE", "TRUE", "nvme", "sata0:0")),
        ("ide", "ide", ("FALSE", "lsilogic", "FALSE", "FALSE", "ide", "ide0:1")),
        ("lsilogic", "sata", ("TRUE", "lsilogic", "TRUE", "FALSE", "scsi", "sata0:0")),
        ("lsilogic", "scsi", ("TRUE", "lsilogic", "FALSE", "FALSE", "scsi", "scsi0:0")),
        ("sata", "sata", ("FALSE", "lsilogic", "TRUE", "FALSE", "sata", "sata0:1")),
    ],
)
def test_disk_and_cdrom_buses_follow_packer(disk: str, cdrom: str, expected: tuple[str, ...]) -> None:
    b = disk_and_cdrom(disk, cdrom)
    assert (b.scsi_present, b.scsi_adapter, b.sata_present, b.nvme_present, b.disk_type, b.cdrom_device) == expected


def test_default_vmx_has_packer_defaults() -> None:
    data = vmx_for()
    assert data["displayname"] == "packer-vmware-iso" and data["memsize"] == "512"
    assert "numvcpus" not in data and data["guestos"] == "other" and data["virtualhw.version"] == "9"
    assert data["scsi0:0.filename"] == "disk.vmdk" and data["ide0:0.filename"] == "/isos/a.iso"
    assert data["ethernet0.connectiontype"] == "nat" and data["ethernet0.vnet"] == ""
    assert data["ethernet0.virtualdev"] == "e1000" and "ethernet0.networkname" not in data
    assert (data["serial0.present"], data["serial0.autodetect"], data["parallel0.autodetect"]) == ("FALSE",) * 3


def test_vmx_hardware_options() -> None:
    data = vmx_for(cpus=2, cores=2, memory=1024, sound=True, usb=True, network="vmnet3", network_name="lan",
                   network_adapter_type="VMXNET3", disk_additional_size=[1, 2, 3, 4, 5, 6, 7],
                   vmdk_name="d")  # fmt: skip
    assert (data["numvcpus"], data["cpuid.corespersocket"], data["memsize"]) == ("2", "2", "1024")
    assert (data["sound.present"], data["usb.present"], data["ethernet0.virtualdev"]) == ("TRUE", "TRUE", "vmxnet3")
    assert (data["ethernet0.connectiontype"], data["ethernet0.vnet"], data["ethernet0.networkname"]) == (
        "custom", "vmnet3", "lan")  # fmt: skip
    assert data["scsi0:8.filename"] == "d-8.vmdk" and "scsi0:7.filename" not in data
    assert additional_disk_numbers(8) == [1, 2, 3, 4, 5, 6, 8, 9]


def test_template_path_is_rendered_with_packer_field_names() -> None:
    cfg = decode()[0].resolved("b")
    fields = make_template_data(cfg, "/i.iso", ("nat", ""))
    data = make_vmx(cfg, fields, "displayName = \"{{ .Name }}\"\nnumvcpus = \"\"\n",
                    render=lambda text, d: text.replace("{{ .Name }}", str(d["Name"])))  # fmt: skip
    assert data == {"displayname": "packer-b"}


def test_serial_and_parallel_ports() -> None:
    assert parse_serial("PIPE:/tmp/p,client,app,true") == parse_serial("pipe:/tmp/p,client,APP,TRUE")
    pipe = parse_serial("PIPE:/tmp/p,server,vm")
    assert (pipe.type, pipe.filename, pipe.endpoint, pipe.host, pipe.yield_) == ("pipe", "/tmp/p", "server", "FALSE",
                                                                                 "FALSE")  # fmt: skip
    assert parse_serial("FILE:/tmp/f,TRUE").filename == "/tmp/f" and parse_serial("FILE:/f").yield_ == ""
    assert parse_serial("DEVICE:/dev/ttyS1").filename == "/dev/ttyS0"  # Packer ignores a lone device
    assert parse_serial("DEVICE:/dev/ttyS1,false").filename == "/dev/ttyS1"
    assert (parse_serial("AUTO:true").auto, parse_serial("AUTO").yield_) == ("TRUE", "FALSE")
    assert not parse_serial("none").present
    assert parse_parallel("DEVICE:/dev/lp0,BI").bidirectional == "TRUE"
    assert (parse_parallel("AUTO").auto, parse_parallel("FILE:/x").filename) == ("TRUE", "/x")
    for bad in ("PIPE:a,b", "PIPE:a,up,app", "FILE:a,b,c", "AUTO:maybe", "TCP:1"):
        with pytest.raises(PortError):
            parse_serial(bad)
    with pytest.raises(PortError, match="Unknown direction SIDE"):
        parse_parallel("DEVICE:/dev/lp0,side")


def test_prepare_errors_all_at_once_and_defaults() -> None:
    _, problems = decode(cpus=-1, format="qcow2", cdrom_adapter_type="floppy", serial="TCP:1", vnc_port_min=7000,
                         remote_type="esx5")  # fmt: skip
    assert problems == [
        "vnc_port_min must be less than vnc_port_max",
        "remote_host must be specified",
        "remote_type esx5 (ESXi) is not supported by imagesmith: only local Player/Workstation drivers",
        "format must be one of ova, ovf, or vmx",
        "An invalid number of cpus was specified (cpus < 0): -1",
        "cdrom_adapter_type must be one of ide, sata, or scsi",
        "Error processing VMX template: Unknown serial type TCP: TCP:1",
    ]
    r = decode()[0].resolved("v")
    assert (r.disk_size, r.vm_name, r.output_directory, r.vmdk_name, r.disk_adapter_type, r.format) == (
        40000, "packer-v", "output-v", "disk", "lsilogic", "vmx")  # fmt: skip
    assert r.skip_export and (r.vnc_port_min, r.vnc_port_max, r.vnc_bind_address) == (5900, 6000, "127.0.0.1")


def test_configure_vmx_applies_custom_data_and_fixed_keys() -> None:
    data = {"displayname": "vm", "ethernet0.generatedAddress": "x", "ethernet1.generatedaddressoffset": "0"}
    out = configure_vmx(data, {"Foo.BAR": "1"}, "vm")
    assert out == {"displayname": "vm", "msg.autoanswer": "true", "uuid.action": "create", "foo.bar": "1",
                   "extendedconfigfile": "vm.vmxf"}  # fmt: skip
    assert configure_vmx(data, {}, "vm", display_name="shown")["extendedconfigfile"] == "shown.vmxf"
    with pytest.raises(KeyError):
        configure_vmx({}, {}, "vm")


def test_vnc_and_clean() -> None:
    data = configure_vnc({"ide0:0.devicetype": "cdrom-image", "ide0:0.filename": "/a.iso", "ethernet0.present": "TRUE",
                          "floppy0.filename": "f", "sound.present": "TRUE"}, "127.0.0.1", 5901, "pw")  # fmt: skip
    assert data["remotedisplay.vnc.port"] == "5901" and data["remotedisplay.vnc.password"] == "pw"
    assert "remotedisplay.vnc.password" not in configure_vnc({}, "127.0.0.1", 5901, "")
    cleaned, messages = clean_vmx(data, ["ide0:0", "floppy0", "sound"], remove_ethernet=True, vnc_enabled=True)
    assert cleaned["ide0:0.filename"] == "auto detect" and cleaned["ide0:0.devicetype"] == "cdrom-raw"
    assert cleaned["floppy0.present"] == "FALSE" and "floppy0.filename" not in cleaned
    assert cleaned["sound.present"] == "FALSE" and cleaned["remotedisplay.vnc.enabled"] == "FALSE"
    assert not any(k.startswith("ethernet") for k in cleaned)
    assert messages[0] == "Detaching ISO from CD-ROM device ide0:0..."


def test_iso_path_relative_only_like_go_filepath_rel() -> None:
    assert relative_iso_path("/abs/a.iso", "") == "/abs/a.iso"
    assert relative_iso_path("isos/a.iso", "") == "isos/a.iso"
    assert relative_iso_path("isos/a.iso", "tpl/t.vmx") == "../../isos/a.iso"


def test_host_network_files() -> None:
    netmap = (
        'network0.name = "Bridged"\nnetwork0.device = "vmnet0"\nnetwork8.name = "NAT"\nnetwork8.device = "vmnet8"\n'
    )
    assert read_netmap(netmap) == {"bridged": ["vmnet0"], "nat": ["vmnet8"]}
    conf = "# c\nhost vmnet1 { fixed-address 1.1.1.1; }\nhost VMnet8 {\n hardware ethernet 0:1;\n"
    conf += " fixed-address 10.0.2.2;\n}"
    assert host_address(conf, "vmnet8") == "10.0.2.2" and host_address(conf, "vmnet2") == ""
    times = "starts 3 2020/05/13 12:00:37;\n ends 3 2020/05/13 12:30:37;"
    leases = read_leases(
        f"lease 10.0.0.5 {{\n {times}\n hardware ethernet 00:0C:29:aa:bb:cc;\n}}\n"
        f"lease 10.0.0.6 {{\n {times}\n hardware ethernet 00:0c:29:00:00:01;\n}}\n"
    )
    assert guest_addresses(leases, "00:0c:29:AA:BB:CC", now=0) == ["10.0.0.5"]  # no current lease: any of the MAC
    assert guest_addresses(leases, "00:0c:29:aa:bb:cc", now=leases[0].starts + 1) == ["10.0.0.5"]
    assert guest_addresses(leases, "00:0c:29:ff:ff:ff", now=0) == []


def test_driver_command_lines() -> None:
    player = Tools("player", "/b/vmrun", qemu_img="/b/qemu-img")
    ws = Tools("ws", "/b/vmrun", vdiskmanager="/b/vmware-vdiskmanager")
    assert make_create_disk_args(player, "o/disk.vmdk", "40000M", "lsilogic", "1") == [
        "/b/qemu-img", "create", "-f", "vmdk", "-o", "compat6", "o/disk.vmdk", "40000M"]  # fmt: skip
    assert make_create_disk_args(ws, "o/d.vmdk", "1M", "pvscsi", "0") == [
        "/b/vmware-vdiskmanager", "-c", "-s", "1M", "-a", "pvscsi", "-t", "0", "o/d.vmdk"]  # fmt: skip
    assert make_compact_args(player, "d.vmdk") == [
        ["/b/qemu-img", "convert", "-f", "vmdk", "-O", "vmdk", "-o", "compat6", "d.vmdk", "d.vmdk.new"]]  # fmt: skip
    assert make_compact_args(ws, "d.vmdk") == [["/b/vmware-vdiskmanager", "-d", "d.vmdk"],
                                                 ["/b/vmware-vdiskmanager", "-k", "d.vmdk"]]  # fmt: skip
    assert make_vmrun_args(player, "start", "o/v.vmx", "nogui") == ["/b/vmrun", "-T", "player", "start", "o/v.vmx",
                                                                     "nogui"]  # fmt: skip
    assert running_vmx("Total running VMs: 2\r\n/a/v.vmx\r\n/b/w.vmx\r\n") == ["/a/v.vmx", "/b/w.vmx"]
    assert disk_plan("o", "d", 100, [1, 2]) == [("o/d.vmdk", "100M"), ("o/d-1.vmdk", "1M"), ("o/d-2.vmdk", "2M")]


def test_find_tools_prefers_workstation_then_player_and_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("imagesmith.builders.vmware.driver.PLAYER_VMX", "/nonexistent/vmware-vmx")

    def on_path(*names: str) -> Any:
        return lambda name: f"/b/{name}" if name in names else None

    assert find_tools(on_path("vmware", "vmrun", "vmware-vdiskmanager")).product == "ws"
    assert find_tools(on_path("vmplayer", "vmrun", "qemu-img")) == Tools("player", "/b/vmrun", "", "/b/qemu-img", False)
    with pytest.raises(BuildError, match="'vmrun' was not found on PATH"):
        find_tools(on_path("vmplayer", "qemu-img"))


def test_vmware_vmx_config_clone_args_and_disks(tmp_path: Any) -> None:
    problems: list[Problem] = []
    decode_config(VmwareVmxConfig, {"communicator": "none"}, render=None, path="b", problems=problems)
    assert [p.message for p in problems] == ["source_path is blank, but is required"]
    problems = []
    decode_config(VmwareVmxConfig, {"communicator": "none", "source_path": str(tmp_path / "x.vmx")}, render=None,
                  path="b", problems=problems)  # fmt: skip
    assert [p.message for p in problems] == [
        f"source_path is invalid: stat {tmp_path}/x.vmx: no such file or directory"
    ]
    ws = Tools("ws", "/b/vmrun", vdiskmanager="/b/vdm")
    assert make_clone_args(ws, "src.vmx", "out/vm.vmx", linked=False) == [
        "/b/vmrun", "-T", "ws", "clone", "src.vmx", "out/vm.vmx", "full"]  # fmt: skip
    assert make_clone_args(ws, "s", "d", linked=True)[-1] == "linked"
    data = {"scsi0:0.filename": "a.vmdk", "ide1:0.filename": "x.iso", "sata0:12.filename": "b.vmdk", "nvram": "n.vmdk"}
    assert sorted(attached_disks(data)) == ["a.vmdk", "b.vmdk"]


def test_player5_cannot_clone() -> None:
    driver = Driver(Tools("player", "/b/vmrun", qemu_img="/b/qemu-img", can_clone=False))
    with pytest.raises(BuildError, match="Cloning is not supported with VMWare Player version 5"):
        asyncio.run(driver.clone("out/vm.vmx", "src.vmx", linked=False))


def test_unsupported_options_are_refused_at_validation() -> None:
    _, problems = decode(format="ova", tools_upload_flavor="linux")
    assert problems == [
        "tools_upload_flavor is not supported by imagesmith's vmware builders yet",
    ]
    assert decode(format="ovf", skip_export=True)[1] == []


def test_missing_floppy_and_cd_paths_are_packers_errors(tmp_path: Path) -> None:
    (tmp_path / "there").write_text("x")
    there = str(tmp_path / "there")
    _, problems = decode(floppy_files=["nope", there, "g*.none"], floppy_dirs=["nodir"], cd_files=["nocd", there])
    assert problems == [
        "Bad CD disk file 'nocd': stat nocd: no such file or directory",
        "Bad Floppy disk file 'nope': stat nope: no such file or directory",
        "Bad Floppy disk directory 'nodir': stat nodir: no such file or directory",
    ]


def test_export_command_line_and_errors_are_packers() -> None:
    from imagesmith.builders.vmware.steps.export import MISSING, export_args, ovftool_failure, verify_ovftool
    from imagesmith.errors import BuildError

    assert export_args(["--compress=9"], "./a/../out/", "vm", "ova") == ["--compress=9", "out/vm.vmx", "out/vm.ova"]
    assert ovftool_failure("Error: on stdout\n", "") == "VMware error: Error: on stdout"
    assert ovftool_failure("out", " err \n") == "VMware error: err"
    verify_ovftool(True, lambda name: None)
    verify_ovftool(False, lambda name: "/usr/bin/ovftool")
    with pytest.raises(BuildError) as caught:
        verify_ovftool(False, lambda name: None)
    assert str(caught.value) == MISSING and MISSING.startswith("Couldn't find ovftool in path!")

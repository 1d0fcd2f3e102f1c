"""The vagrant post-processor's virtualbox provider (Packer 1.6.6's ``VBoxProvider``): the one OVF
renamed box.ovf, every other file copied, ``base_mac`` from adapter 0; its errors."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from imagesmith.builders.virtualbox.artifact import make_artifact
from imagesmith.errors import BuildError
from imagesmith.post_processors.vagrant.providers import PROVIDERS
from imagesmith.ui import Ui

OVF = '<Envelope>\n  <Network>\n    <Adapter slot="0" enabled="true" MACAddress="080027ABCDEF" type="82540EM">\n'


class QuietUi(Ui):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append(message)


def test_virtualbox_box_renames_the_ovf_and_reads_base_mac(tmp_path: Path) -> None:
    (tmp_path / "vm.ovf").write_text(OVF)
    (tmp_path / "vm-disk001.vmdk").write_bytes(b"disk")
    box = PROVIDERS["virtualbox"](QuietUi(), make_artifact(str(tmp_path), {}))
    assert box.metadata == {"provider": "virtualbox"}
    assert box.files == {"box.ovf": str(tmp_path / "vm.ovf"), "vm-disk001.vmdk": str(tmp_path / "vm-disk001.vmdk")}
    assert box.vagrantfile == '\nVagrant.configure("2") do |config|\n  config.vm.base_mac = "080027ABCDEF"\nend\n'
    assert not box.keep_input


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.vmdk": "x"}, "ovf file couldn't be found"),
        ({"a.ovf": OVF, "b.ovf": OVF}, "More than one OVF file in VirtualBox artifact."),
        ({"a.ovf": '<Adapter slot="0"\nMACAddress="1"/>'}, "can't find base mac address in OVF"),
        ({"a.ova": "not a tar"}, "Error unpacking OVA"),
    ],
)
def test_virtualbox_box_errors_as_packer(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(BuildError, match=message):
        PROVIDERS["virtualbox"](QuietUi(), make_artifact(str(tmp_path), {}))


def test_virtualbox_box_unpacks_an_ova_next_to_it(tmp_path: Path) -> None:
    """An ``.ova`` (a tar) is unpacked by member base name (Packer's ``DecompressOva``); its OVF is
    box.ovf; the unpacked copies live in a hidden directory beside the OVA, named in ``temp_dir``."""
    contents = {"vm.ovf": OVF.encode(), "vm-disk001.vmdk": b"disk" * 1000, "vm.mf": b"SHA1(vm.ovf)= 00\n"}
    with tarfile.open(tmp_path / "vm.ova", "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"sub/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    ui = QuietUi()
    box = PROVIDERS["virtualbox"](ui, make_artifact(str(tmp_path), {}))
    assert sorted(box.files) == ["box.ovf", "vm-disk001.vmdk", "vm.mf"]
    assert {name: Path(path).read_bytes() for name, path in box.files.items()} == {
        "box.ovf": contents["vm.ovf"], "vm-disk001.vmdk": contents["vm-disk001.vmdk"], "vm.mf": contents["vm.mf"],
    }  # fmt: skip
    assert box.temp_dir and Path(box.temp_dir).parent == tmp_path and Path(box.temp_dir).name.startswith(".")
    assert 'base_mac = "080027ABCDEF"' in box.vagrantfile
    assert ui.lines[0] == f"Unpacking OVA: {tmp_path / 'vm.ova'}"


def test_virtualbox_box_removes_the_unpacked_ova_on_error(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "vm.ova", "w") as tar:
        info = tarfile.TarInfo("vm-disk001.vmdk")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BuildError, match="ovf file couldn't be found"):
        PROVIDERS["virtualbox"](QuietUi(), make_artifact(str(tmp_path), {}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vm.ova"]

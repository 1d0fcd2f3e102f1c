"""The vagrant post-processor against Packer 1.6.6: the same templates built by both tools give
boxes with the same members, metadata.json, Vagrantfile and disk, and the same artifacts.

Two inputs Packer can make here: a docker image (docker builder with ``commit`` from the local
busybox base image) and a qemu disk (qemu builder on a blank qcow2 with no communicator: SeaBIOS
finds nothing to boot and, with ``-no-reboot``, QEMU exits, which counts as the shutdown).
The docker box is also made by calling the post-processor directly on an artifact holding the
image id Packer committed: its Vagrantfile must then be byte-identical to Packer's.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.docker.artifact import ImportArtifact
from imagesmith.core.plugin import BuildInfo
from imagesmith.post_processors.vagrant import Vagrant
from imagesmith.post_processors.vagrant.config import VagrantConfig
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui
from tests.conftest import ROOT, run_cli, run_packer

pytestmark = [pytest.mark.compat, pytest.mark.integration]

BASE_IMAGE = "imagesmith-test/busybox:latest"
CUSTOM_VAGRANTFILE = "# {{ .Provider }} box of {{ .BuildName }} from {{ .ArtifactId }} ({{ build_type }})\n"
IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")


def member_names(path: Path) -> list[str]:
    """Names as GNU tar lists them (Python's tarfile misreads the atime Go writes in GNU headers
    as a name prefix)."""
    listing = subprocess.run(["tar", "-tf", str(path)], capture_output=True, text=True, check=True).stdout
    return listing.splitlines()


def read_box(path: Path) -> dict[str, bytes]:
    """Member name -> contents, extracted by GNU tar."""
    out = path.with_name(path.name + ".d")
    out.mkdir()
    subprocess.run(["tar", "-xf", str(path), "-C", str(out)], check=True)
    return {name: (out / name).read_bytes() for name in member_names(path)}


def artifacts(machine_output: str) -> list[list[str]]:
    return [line.split(",")[1:] for line in machine_output.splitlines() if ",artifact," in line]


def build_both(tmp_path: Path, template: dict[str, Any], files: dict[str, str]) -> dict[str, tuple[str, Path]]:
    """Build ``template`` with Packer, then imagesmith, each in its own directory; both must succeed."""
    results = {}
    for tool, run in (("packer", run_packer), ("imagesmith", run_cli)):
        work = tmp_path / tool
        work.mkdir(exist_ok=True)
        for name, text in files.items():
            (work / name).write_text(text)
        (work / "template.json").write_text(json.dumps(template))
        done = run("-machine-readable", "build", "template.json", cwd=work, timeout=240)
        assert done.returncode == 0, f"{tool}:\n{done.stdout}\n{done.stderr}"
        results[tool] = (done.stdout, work)
    return results


def ensure_base_image() -> None:
    inspect = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True)
    if inspect.returncode != 0:
        subprocess.run([str(ROOT / "scripts" / "fixtures" / "docker-base-image.sh")], check=True)


def image_exists(image_id: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image_id], capture_output=True).returncode == 0


def test_docker_box_like_packer(tmp_path: Path, need_docker: None, need_packer: None) -> None:
    ensure_base_image()
    run_command = ["-d", "-i", "-t", "--network", "none", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
    template = {
        "builders": [
            {"type": "docker", "image": BASE_IMAGE, "pull": False, "commit": True, "run_command": run_command}
        ],
        "post-processors": [
            {
                "type": "vagrant",
                "output": "out/{{.BuildName}}_{{.Provider}}.box",
                "include": ["info.txt"],
                "vagrantfile_template": "custom.tpl",
            }
        ],
    }
    files = {"info.txt": "made by a test\n", "custom.tpl": CUSTOM_VAGRANTFILE}
    results = build_both(tmp_path, template, files)
    (p_out, p_dir), (i_out, i_dir) = results["packer"], results["imagesmith"]
    assert artifacts(i_out) == artifacts(p_out), i_out
    assert [a[-1] for a in artifacts(p_out) if a[3] == "file"] == ["out/docker_docker.box"]
    theirs, ours = read_box(p_dir / "out/docker_docker.box"), read_box(i_dir / "out/docker_docker.box")
    assert member_names(i_dir / "out/docker_docker.box") == member_names(p_dir / "out/docker_docker.box")
    assert sorted(ours) == ["Vagrantfile", "info.txt", "metadata.json"]
    assert ours["metadata.json"] == theirs["metadata.json"] == b'{"provider":"docker"}\n'
    assert ours["info.txt"] == theirs["info.txt"]
    packer_image = IMAGE_ID.findall(theirs["Vagrantfile"].decode())[0]
    our_image = IMAGE_ID.findall(ours["Vagrantfile"].decode())[0]
    assert IMAGE_ID.sub("ID", ours["Vagrantfile"].decode()) == IMAGE_ID.sub("ID", theirs["Vagrantfile"].decode())
    assert f"docker box of docker from {packer_image} (docker)" in theirs["Vagrantfile"].decode()
    # the input image is not kept by default, by either tool
    assert not image_exists(packer_image) and not image_exists(our_image)

    # the post-processor alone, on an artifact holding the image Packer made: the very same box contents
    work = tmp_path / "direct"
    work.mkdir()
    for name, text in files.items():
        (work / name).write_text(text)
    raw = {"output": str(work / "direct.box"), "include": [str(work / "info.txt")]}
    raw["vagrantfile_template"] = str(work / "custom.tpl")
    direct = run_direct(raw, ImportArtifact(packer_image), BuildInfo(build_name="docker", builder_type="docker"))
    assert direct == theirs
    assert member_names(work / "direct.box") == member_names(p_dir / "out/docker_docker.box")


class QuietUi(Ui):
    def _write(self, kind: str, message: str) -> None:
        pass


def run_direct(raw: dict[str, Any], artifact: ImportArtifact, info: BuildInfo) -> dict[str, bytes]:
    problems: list[Any] = []
    config = decode_config(VagrantConfig, raw, render=None, path="pp", problems=problems)
    assert problems == []
    result = asyncio.run(Vagrant(config, info).post_process(QuietUi(), artifact))
    assert result.artifact is not None and (result.keep, result.force_override) == (False, True)
    return read_box(Path(result.artifact.files[0]))


def qemu_template() -> dict[str, Any]:
    builder = {
        "type": "qemu",
        "iso_url": "base.qcow2",
        "iso_checksum": "none",
        "disk_image": True,
        "communicator": "none",
        "headless": True,
        "accelerator": "tcg",
        "format": "qcow2",
        "disk_size": "2049M",  # 2049 MiB: virtual_size rounds up to 3
        "boot_wait": "1ms",
        "output_directory": "out-qemu",
        "vm_name": "disk.qcow2",
        "memory": 64,
        "vnc_bind_address": "127.0.0.1",
        "shutdown_timeout": "90s",
        # SeaBIOS finds no boot disk and, after 2 s (Packer connects to VNC meanwhile), QEMU exits
        # instead of rebooting; a NIC without its option ROM saves the 9 s iPXE takes under TCG
        "qemuargs": [
            ["-boot", "order=c,strict=on,reboot-timeout=2000"],
            ["-no-reboot"],
            ["-device", "virtio-net,netdev=user.0,romfile="],
        ],
    }
    return {
        "builders": [builder],
        "post-processors": [
            {"type": "vagrant", "output": "out/{{.BuildName}}_{{.Provider}}.box", "keep_input_artifact": True},
            {
                "type": "vagrant",
                "output": "out/plain-{{.Provider}}.box",
                "compression_level": 0,
                "vagrantfile_template": "custom.tpl",
            },
        ],
    }


def test_libvirt_box_like_packer(tmp_path: Path, need_qemu: None, need_packer: None) -> None:
    if shutil.which("qemu-img") is None:
        pytest.skip("needs qemu-img")
    blank = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(blank), "1G"], check=True, capture_output=True)
    for tool in ("packer", "imagesmith"):
        (tmp_path / tool).mkdir()
        shutil.copy(blank, tmp_path / tool / "base.qcow2")
    results = build_both(tmp_path, qemu_template(), {"custom.tpl": CUSTOM_VAGRANTFILE})
    (p_out, p_dir), (i_out, i_dir) = results["packer"], results["imagesmith"]
    assert artifacts(i_out) == artifacts(p_out), i_out
    for box in ("out/qemu_libvirt.box", "out/plain-libvirt.box"):
        theirs, ours = read_box(p_dir / box), read_box(i_dir / box)
        assert member_names(i_dir / box) == member_names(p_dir / box) == ["Vagrantfile", "box.img", "metadata.json"]
        assert (
            ours["metadata.json"]
            == theirs["metadata.json"]
            == b'{"format":"qcow2","provider":"libvirt","virtual_size":3}\n'
        )
        assert ours["Vagrantfile"] == theirs["Vagrantfile"]
        assert disk_info(ours["box.img"], tmp_path) == disk_info(theirs["box.img"], tmp_path)
    assert b'libvirt.driver = "qemu"' in theirs["Vagrantfile"]
    assert b"# libvirt box of qemu from VM (qemu)\n" in theirs["Vagrantfile"]
    for work in (p_dir, i_dir):  # gzip by default, a plain tar at level 0
        assert (work / "out/qemu_libvirt.box").read_bytes()[:2] == b"\x1f\x8b"
        assert (work / "out/plain-libvirt.box").read_bytes()[257:263] == b"ustar "
        assert (work / "out-qemu" / "disk.qcow2").exists()  # kept: the first chain asked for it


def disk_info(image: bytes, tmp_path: Path) -> tuple[str, int]:
    path = tmp_path / "probe.img"
    path.write_bytes(image)
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)], capture_output=True).stdout)
    return info["format"], info["virtual-size"]

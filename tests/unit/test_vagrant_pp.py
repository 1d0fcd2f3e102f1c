"""The vagrant post-processor on a real qcow2: box contents, metadata, levels, include, templates, docker."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, BuildInfo, PostProcessResult
from imagesmith.core.registry import lookup
from imagesmith.errors import BuildError, Problem
from imagesmith.post_processors.vagrant import BUILDER_ID, Vagrant
from imagesmith.post_processors.vagrant.config import VagrantConfig
from imagesmith.run import run
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

INFO = BuildInfo(build_name="web", builder_type="qemu", user_variables={"owner": "ops"})
LIBVIRT_VAGRANTFILE = (
    "\n# The contents below were provided by the Packer Vagrant post-processor\n"
    '\nVagrant.configure("2") do |config|\n  config.vm.provider :libvirt do |libvirt|\n'
    '    libvirt.driver = "{driver}"\n  end\nend\n'
    "\n\n# The contents below (if any) are custom contents provided by the\n"
    "# Packer template during image build.\n{custom}\n"
)


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))


@pytest.fixture(scope="module")
def qcow2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("qemu-img") is None:
        pytest.skip("needs qemu-img (apt-get install qemu-utils)")
    out = tmp_path_factory.mktemp("qemu") / "output-qemu"
    out.mkdir()
    disk = out / "packer-web"
    asyncio.run(run(["qemu-img", "create", "-f", "qcow2", str(disk), "3G"]))
    return disk


def qemu_artifact(disk: Path, **state: Any) -> FileArtifact:
    full = {"diskName": disk.name, "diskType": "qcow2", "diskSize": "2049M", "domainType": "tcg"}
    full.update(state)
    full.setdefault("generated_data", {"Release": "r7"})
    return FileArtifact("transcend.qemu", [str(disk)], artifact_id="VM", directory=str(disk.parent), state=full)


def make_config(**raw: Any) -> VagrantConfig:
    problems: list[Problem] = []
    config = decode_config(VagrantConfig, raw, render=None, path="post-processors[0]", problems=problems)
    assert problems == []
    return config


def process(config: VagrantConfig, artifact: Artifact, info: BuildInfo = INFO) -> tuple[PostProcessResult, RecordingUi]:
    ui = RecordingUi()
    result = asyncio.run(Vagrant(config, info).post_process(ui, artifact))
    return result, ui


def read_box(path: str | Path) -> tuple[list[tarfile.TarInfo], dict[str, bytes]]:
    with tarfile.open(path) as box:
        members = box.getmembers()
        return members, {m.name: box.extractfile(m).read() for m in members}  # type: ignore[union-attr]


def test_registry_finds_the_plugin() -> None:
    assert lookup("post-processor", "vagrant") is Vagrant


def test_libvirt_box_from_a_qcow2(qcow2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result, ui = process(make_config(), qemu_artifact(qcow2))
    box = tmp_path / "packer_web_libvirt.box"
    assert result.keep is False and result.force_override is True
    artifact = result.artifact
    assert artifact is not None and artifact.builder_id == BUILDER_ID == "mitchellh.post-processor.vagrant"
    assert artifact.id == "libvirt" and artifact.files == ["packer_web_libvirt.box"]
    assert str(artifact) == "'libvirt' provider box: packer_web_libvirt.box"
    assert artifact.state("provider") == "libvirt"
    assert box.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    members, contents = read_box(box)
    assert [m.name for m in members] == ["Vagrantfile", "box.img", "metadata.json"]  # filepath.Walk order
    assert all(m.isreg() and m.mode == 0o666 & ~current_umask() and m.uid == os.getuid() for m in members)
    assert contents["box.img"] == qcow2.read_bytes()
    # 2049 MiB rounds up to 3 GB; compact JSON with sorted keys and a newline, as Go's encoder writes it
    assert contents["metadata.json"] == b'{"format":"qcow2","provider":"libvirt","virtual_size":3}\n'
    assert contents["Vagrantfile"].decode() == LIBVIRT_VAGRANTFILE.format(driver="qemu", custom="")
    messages = [line for _, line in ui.lines]
    assert messages[0] == "Creating Vagrant box for 'libvirt' provider"
    assert f"Copying from artifact: {qcow2}" in messages
    assert [m for m in messages if m.startswith("Compressing: ")] == [
        "Compressing: Vagrantfile",
        "Compressing: box.img",
        "Compressing: metadata.json",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file left"


def current_umask() -> int:
    from imagesmith.post_processors.vagrant.box import current_umask as umask

    return umask()


@pytest.mark.parametrize(
    ("disk_size", "domain", "size", "driver"),
    [("1024M", "kvm", 1, "kvm"), ("1025", "none", 2, "qemu"), ("20G", "hvf", 20, "qemu"), ("1t", "tcg", 1024, "qemu")],
)
def test_libvirt_size_and_driver(
    qcow2: Path, tmp_path: Path, disk_size: str, domain: str, size: int, driver: str
) -> None:
    out = tmp_path / "b.box"
    process(make_config(output=str(out)), qemu_artifact(qcow2, diskSize=disk_size, domainType=domain))
    _, contents = read_box(out)
    assert json.loads(contents["metadata.json"])["virtual_size"] == size
    assert f'libvirt.driver = "{driver}"' in contents["Vagrantfile"].decode()


def test_unknown_domain_type_is_packers_error(qcow2: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.box"
    with pytest.raises(BuildError, match=r"^Unknown libvirt domain type: whpx$"):
        process(make_config(output=str(out)), qemu_artifact(qcow2, domainType="whpx"))
    assert list(tmp_path.iterdir()) == []


def test_level_zero_writes_a_plain_tar(qcow2: Path, tmp_path: Path) -> None:
    out = tmp_path / "plain.box"
    process(make_config(output=str(out), compression_level=0), qemu_artifact(qcow2))
    data = out.read_bytes()
    assert data[257:263] == b"ustar " and data[:11] == b"Vagrantfile"  # a GNU tar, not gzip
    with tarfile.open(out, "r:") as box:
        assert box.getnames() == ["Vagrantfile", "box.img", "metadata.json"]


@pytest.mark.parametrize("level", [1, 9, -1, "5"])
def test_levels_give_gzip(qcow2: Path, tmp_path: Path, level: object) -> None:
    out = tmp_path / "g.box"
    process(make_config(output=str(out), compression_level=level), qemu_artifact(qcow2))
    with gzip.open(out) as raw, tarfile.open(fileobj=io.BytesIO(raw.read())) as box:
        assert box.extractfile("box.img").read() == qcow2.read_bytes()  # type: ignore[union-attr]


def test_out_of_range_level_is_packers_error(qcow2: Path, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"^Invalid compression level. Expected an integer from -1 to 9.$"):
        process(make_config(output=str(tmp_path / "x.box"), compression_level=10), qemu_artifact(qcow2))
    assert list(tmp_path.iterdir()) == []


def test_include_files_and_their_precedence(qcow2: Path, tmp_path: Path) -> None:
    extra = tmp_path / "in"
    extra.mkdir()
    (extra / "info.json").write_text('{"author": "ops"}')
    (extra / "metadata.json").write_text('{"provider": "libvirt", "mine": true}')
    (extra / "Vagrantfile").write_text("replaced")
    (extra / "box.img").write_text("replaced too")
    out = tmp_path / "out" / "sub" / "i.box"  # parents are created
    config = make_config(output=str(out), include=[str(p) for p in sorted(extra.iterdir())])
    _, ui = process(config, qemu_artifact(qcow2))
    _, contents = read_box(out)
    assert sorted(contents) == ["Vagrantfile", "box.img", "info.json", "metadata.json"]
    assert contents["info.json"] == b'{"author": "ops"}'
    assert contents["metadata.json"] == b'{"provider": "libvirt", "mine": true}'  # an included one wins
    assert contents["box.img"] == qcow2.read_bytes()  # the disk replaces an included box.img
    assert contents["Vagrantfile"].startswith(b"\n# The contents below were provided by the Packer")
    assert ("message", f"Copying from include: {extra / 'info.json'}") in ui.lines


def test_missing_include_fails_cleanly(qcow2: Path, tmp_path: Path) -> None:
    config = make_config(output=str(tmp_path / "x.box"), include=[str(tmp_path / "nope")])
    with pytest.raises(BuildError, match=r"Error copying include file: .*nope"):
        process(config, qemu_artifact(qcow2))
    assert list(tmp_path.iterdir()) == []


def test_output_and_vagrantfile_templates_are_rendered(qcow2: Path, tmp_path: Path) -> None:
    template = tmp_path / "Vagrantfile.tpl"
    template.write_text(
        "# {{ .Provider }} box of {{ .BuildName }} ({{ .ArtifactId }}, {{ .Release }}) by {{user `owner`}}"
    )
    output = str(tmp_path / "{{ .BuildName }}-{{.Provider}}-{{ .Release }}-{{ build_type }}.box")
    config = make_config(output=output, vagrantfile_template=str(template))
    result, ui = process(config, qemu_artifact(qcow2))
    box = tmp_path / "web-libvirt-r7-qemu.box"
    assert result.artifact is not None and result.artifact.files == [str(box)]
    _, contents = read_box(box)
    custom = "# libvirt box of web (VM, r7) by ops"
    assert contents["Vagrantfile"].decode() == LIBVIRT_VAGRANTFILE.format(driver="qemu", custom=custom)
    assert ("message", f"Using custom Vagrantfile: {template}") in ui.lines


def test_vagrantfile_template_must_exist_unless_generated(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.tpl")
    problems: list[Problem] = []
    decode_config(VagrantConfig, {"vagrantfile_template": missing}, render=None, path="pp", problems=problems)
    assert [p.message for p in problems] == [f"vagrantfile_template '{missing}' does not exist"]
    assert make_config(vagrantfile_template=missing, vagrantfile_template_generated=True).vagrantfile_template


def test_provider_override_is_checked_and_used(qcow2: Path, tmp_path: Path) -> None:
    problems: list[Problem] = []
    decode_config(VagrantConfig, {"provider_override": "kvm"}, render=None, path="pp", problems=problems)
    assert problems[0].message.startswith("The given provider_override kvm is not valid. Please choose from one of")
    assert "libvirt" in problems[0].message and "virtualbox" in problems[0].message
    artifice = FileArtifact("packer.post-processor.artifice", [str(qcow2)], state=qemu_artifact(qcow2)._state)
    out = tmp_path / "{{.Provider}}.box"
    result, _ = process(make_config(output=str(out), provider_override="libvirt"), artifice)
    assert result.artifact is not None and result.artifact.files == [str(tmp_path / "libvirt.box")]


def test_unknown_builder_id_is_packers_error(tmp_path: Path) -> None:
    artifact = FileArtifact("packer.docker", [str(tmp_path / "x.tar")])
    with pytest.raises(BuildError, match=r"^Unknown artifact type, can't build box: packer.docker$"):
        process(make_config(output=str(tmp_path / "x.box")), artifact)
    with pytest.raises(BuildError, match="cannot make 'hyperv' provider boxes"):
        process(make_config(output=str(tmp_path / "x.box"), provider_override="hyperv"), artifact)


def test_override_per_provider(qcow2: Path, tmp_path: Path) -> None:
    config = make_config(
        output=str(tmp_path / "default.box"),
        compression_level=9,
        override={
            "libvirt": {"compression_level": 0, "output": str(tmp_path / "{{.Provider}}-{{user `owner`}}.box")},
            "docker": {"compression_level": 1},
        },
    )
    process(config, qemu_artifact(qcow2))
    box = tmp_path / "libvirt-ops.box"
    assert box.read_bytes()[257:263] == b"ustar "  # the override's level 0: plain tar
    assert not (tmp_path / "default.box").exists()


class FakeImage(Artifact):
    """A docker image as the docker builder's commit gives it (the Vagrantfile only reads its id)."""

    def __init__(self, builder_id: str, image_id: str) -> None:
        self.builder_id = builder_id
        self._id = image_id

    @property
    def id(self) -> str:
        return self._id

    async def destroy(self) -> None:
        raise AssertionError("the post-processor must not destroy its input")


@pytest.mark.parametrize(
    "builder_id",
    ["packer.post-processor.docker-import", "packer.post-processor.docker-tag", "packer.post-processor.docker-push"],
)
def test_docker_box(tmp_path: Path, builder_id: str) -> None:
    image = "sha256:" + "ab" * 32
    result, _ = process(make_config(output=str(tmp_path / "d.box")), FakeImage(builder_id, image))
    assert result.keep is False and result.force_override is True
    assert result.artifact is not None and result.artifact.id == "docker"
    members, contents = read_box(tmp_path / "d.box")
    assert [m.name for m in members] == ["Vagrantfile", "metadata.json"]
    assert contents["metadata.json"] == b'{"provider":"docker"}\n'
    assert contents["Vagrantfile"].decode() == (
        "\n# The contents below were provided by the Packer Vagrant post-processor\n"
        f'\nVagrant.configure("2") do |config|\n\tconfig.vm.provider :docker do |docker, override|\n'
        f'\t\tdocker.image = "{image}"\n\tend\nend\n'
        "\n\n# The contents below (if any) are custom contents provided by the\n"
        "# Packer template during image build.\n\n"
    )


def test_cancel_leaves_nothing(qcow2: Path, tmp_path: Path) -> None:
    big = tmp_path / "in" / "big.img"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.write(os.urandom(1 << 20) * 64)  # 64 MiB of poorly compressible data
    out = tmp_path / "out"
    config = make_config(output=str(out / "c.box"), compression_level=9, include=[str(big)])

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(Vagrant(config, INFO).post_process(RecordingUi(), qemu_artifact(qcow2)))
        while not out.exists() or not any(out.iterdir()):
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("size", "megabytes", "gigabytes"),
    [
        ("2048", 2048, 2),
        ("1048576k", 1024, 1),
        ("1048577K", 1024, 1),  # Packer truncates to whole MiB before rounding up to GB
        ("3221225472b", 3072, 3),
        ("1G", 1024, 1),
        ("1025M", 1025, 2),
        ("2T", 2 << 20, 2048),
        ("1.5G", 0, 0),  # strconv.ParseUint fails: Packer counts 0
    ],
)
def test_size_in_megabytes_like_packer(size: str, megabytes: int, gigabytes: int) -> None:
    from imagesmith.post_processors.vagrant.providers import size_in_megabytes, virtual_size_gb

    assert size_in_megabytes(size) == megabytes
    assert virtual_size_gb(size) == gigabytes


def test_bad_size_unit_and_missing_disk(qcow2: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.box")
    with pytest.raises(BuildError, match=r"^Unknown size unit x$"):
        process(make_config(output=out), qemu_artifact(qcow2, diskSize="10x"))
    with pytest.raises(BuildError, match=r"None of the artifact's files is the disk 'other.qcow2'"):
        process(make_config(output=out), qemu_artifact(qcow2, diskName="other.qcow2"))
    no_state = FileArtifact("transcend.qemu", [str(qcow2)])
    with pytest.raises(BuildError, match="has no diskName state"):
        process(make_config(output=out), no_state)
    assert list(tmp_path.iterdir()) == []


def test_bad_override_type_is_reported(qcow2: Path, tmp_path: Path) -> None:
    config = make_config(output=str(tmp_path / "x.box"), override={"libvirt": {"compression_level": "fast"}})
    with pytest.raises(BuildError, match=r"^Error overriding config for libvirt: 'compression_level'"):
        process(config, qemu_artifact(qcow2))


def test_plain_tar_without_kernel_copy(qcow2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where copy_file_range is refused (other filesystem, old kernel) the data is copied in user space."""
    import errno

    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    out = tmp_path / "p.box"
    process(make_config(output=str(out), compression_level=0), qemu_artifact(qcow2))
    _, contents = read_box(out)
    assert contents["box.img"] == qcow2.read_bytes()


def test_generated_vagrantfile_template_missing_at_run_time(qcow2: Path, tmp_path: Path) -> None:
    missing = tmp_path / "later.tpl"
    config = make_config(
        output=str(tmp_path / "x.box"), vagrantfile_template=str(missing), vagrantfile_template_generated=True
    )
    with pytest.raises(BuildError, match=f"^open {missing}: no such file or directory$"):
        process(config, qemu_artifact(qcow2))
    missing.write_text("# made by an earlier step for {{ .BuildName }}")
    process(config, qemu_artifact(qcow2))
    _, contents = read_box(tmp_path / "x.box")
    assert contents["Vagrantfile"].endswith(
        b"# Packer template during image build.\n# made by an earlier step for web\n"
    )

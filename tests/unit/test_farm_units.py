"""The farm's pure parts: routing by capability, the content-addressed bundle, store URLs, and that
a build without -executor never imports Celery (or redis)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imagesmith.errors import ImagesmithError, UsageError
from imagesmith.farm.board import mask_url, redis_url
from imagesmith.farm.bundle import make_bundle, unpack_bundle
from imagesmith.farm.routing import capability_for, parse_routes, queues_for_worker, route_builds
from imagesmith.farm.store import check_store_url, store_key


@pytest.mark.parametrize(
    ("builder", "capability"),
    [("qemu", "qemu"), ("docker", "docker"), ("virtualbox-iso", "virtualbox"), ("virtualbox-ovf", "virtualbox"),
     ("amazon-ebs", "cloud"), ("amazon-instance", "cloud"), ("null", "any"), ("file", "any")],
)  # fmt: skip
def test_each_builder_needs_its_capability(builder: str, capability: str) -> None:
    assert capability_for(builder) == capability


def test_a_kvm_worker_serves_qemu_and_every_worker_serves_any() -> None:
    assert queues_for_worker(["docker", "kvm"]) == [
        "imagesmith.any",
        "imagesmith.docker",
        "imagesmith.kvm",
        "imagesmith.qemu",
    ]
    assert queues_for_worker([]) == ["imagesmith.any"]


def test_a_route_overrides_the_builders_capability_and_must_name_a_build() -> None:
    table = route_builds([("a", "null"), ("b", "qemu")], parse_routes(["a=docker"]))
    assert table == {"a": "docker", "b": "qemu"}
    with pytest.raises(UsageError, match="names no build"):
        route_builds([("a", "null")], parse_routes(["zzz=docker"]))
    with pytest.raises(UsageError, match="BUILD=CAPABILITY"):
        parse_routes(["nonsense"])


def test_the_bundle_is_the_same_bytes_for_the_same_inputs(tmp_path: Path) -> None:
    for name in ("one", "two"):
        root = tmp_path / name
        (root / "scripts").mkdir(parents=True)
        (root / "template.json").write_text("{}")
        (root / "scripts" / "a.sh").write_text("echo a\n")
        (root / ".git").mkdir()
        (root / ".git" / "HEAD").write_text(name)  # excluded: not an input
    first, second = make_bundle(tmp_path / "one"), make_bundle(tmp_path / "two")
    assert first.digest == second.digest and first.files == 2
    (tmp_path / "two" / "scripts" / "a.sh").write_text("echo b\n")
    assert make_bundle(tmp_path / "two").digest != first.digest
    unpacked = unpack_bundle(first.data, first.digest, tmp_path / "cache")
    assert (unpacked / "scripts" / "a.sh").read_text() == "echo a\n"
    assert not (unpacked / ".git").exists()
    with pytest.raises(ImagesmithError, match="damaged"):
        unpack_bundle(first.data + b"x", "0" * 64, tmp_path / "cache")


def test_a_too_large_template_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"\0" * 4096)
    with pytest.raises(ImagesmithError, match="larger than"):
        make_bundle(tmp_path, limit=1024)


def test_urls_are_checked_and_passwords_masked() -> None:
    assert redis_url("celery+redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImagesmithError, match="unsupported executor"):
        redis_url("celery+amqp://u:hunter2@h/")
    assert mask_url("redis://:hunter2@h:1/0") == "redis://:<sensitive>@h:1/0"
    assert check_store_url("s3://bucket/prefix") == "s3://bucket/prefix"
    with pytest.raises(UsageError):
        check_store_url("file://relative/dir")
    assert store_key("out/disk.img", Path("/w")) == "out/disk.img"
    assert store_key("/elsewhere/disk.img", Path("/w")) == "disk.img"


def test_a_build_without_executor_imports_neither_celery_nor_redis(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"builders": [{"type": "null", "communicator": "none"}]}))
    probe = (
        "import sys\nfrom imagesmith.cli import main\ncode = main(['build', sys.argv[1]])\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'kombu', 'redis')))\n"
        "sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(template)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LOADED []" in done.stdout
    assert "Builds finished" in done.stdout


def test_an_unreachable_broker_is_a_clear_error_with_the_password_masked(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"builders": [{"type": "null", "communicator": "none"}]}))
    argv = [
        sys.executable,
        "-m",
        "imagesmith",
        "build",
        "-executor=celery+redis://:pw-7715@127.0.0.1:1/0",
        str(template),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Error: cannot reach the farm's broker at redis://:<sensitive>@127.0.0.1:1/0" in done.stderr
    assert "pw-7715" not in done.stdout + done.stderr and "Traceback" not in done.stderr

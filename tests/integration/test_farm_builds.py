"""The farm with real parts: a private redis-server, two real Celery workers (``imagesmith
worker``), the client as a user runs it. Routing by capability, live output identical to a local
run, secrets kept off the broker, the file:// artifact store, and a build id sent twice runs once."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.farm_support import Farm, Reader, need_farm, null_build, running_farm, wait_for, write_template

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    need_farm()
    with running_farm(tmp_path_factory.mktemp("farm")) as farm:
        secret = {"PKR_VAR_password": "worker-secret-7731"}  # each worker's own copy of the secret
        farm.start_worker("plain", "", "-concurrency", "2", env=secret)
        farm.start_worker("kvmhost", "docker,kvm", env=secret)
        yield farm


def worker_of(output: str, build: str) -> str:
    found = re.findall(rf"{build}: worker=(\S+)", output)
    assert found, output
    return found[0]


def test_builds_go_to_workers_whose_capabilities_fit(farm: Farm, tmp_path: Path) -> None:
    lines = ["echo worker=$IMAGESMITH_FARM_WORKER", "echo cache=$PACKER_CACHE_DIR"]
    blocks = [null_build(name, *lines) for name in ("anywhere", "needs-docker", "qemu")]
    template = write_template(tmp_path, {"builders": [b for b, _ in blocks], "provisioners": [p for _, p in blocks]})
    done = farm.build("-route", "needs-docker=docker", "-route=qemu=qemu", str(template), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert worker_of(done.stdout, "needs-docker") == "kvmhost"  # the only worker with docker
    assert worker_of(done.stdout, "qemu") == "kvmhost"  # kvm implies qemu
    assert worker_of(done.stdout, "anywhere") in ("plain", "kvmhost")
    # downloads (ISOs) go to one cache per worker, shared by its builds
    assert f"qemu: cache={farm.dir / 'worker-kvmhost' / 'packer_cache'}" in done.stdout


def normalized_ui(output: str, build: str) -> list[str]:
    """The build's machine-readable ui records, without times, temp names and durations."""
    lines = []
    for line in output.splitlines():
        fields = line.split(",", 2)
        if len(fields) == 3 and fields[2].startswith("ui,") and build in fields[2]:
            text = re.sub(r"/tmp/packer-shell\w+", "SCRIPT", fields[2])
            lines.append(re.sub(r"after .*", "after DURATION", text))
    return lines


def test_output_is_live_and_the_same_as_a_local_run(farm: Farm, tmp_path: Path) -> None:
    release = tmp_path / "release"
    lines = ["echo first line", f"while [ ! -e {release} ]; do sleep 0.2; done", "echo second line"]
    builder, provisioner = null_build("live", *lines)
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    client = Reader(farm.start_build("-machine-readable", str(template), cwd=tmp_path))
    client.wait_for("first line")  # printed while the build is still waiting for us: live
    assert "second line" not in client.text
    release.touch()
    remote = client.finish()
    assert client.proc.returncode == 0, remote
    local = subprocess.run(
        [sys.executable, "-m", "imagesmith", "build", "-machine-readable", str(template)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert local.returncode == 0, local.stdout
    assert normalized_ui(remote, "live") == normalized_ui(local.stdout, "live")
    assert ",live,artifact,0,builder-id,fnoeding.null" in remote


def decoded_tokens(text: str) -> str:
    """``text`` plus the base64 tokens in it decoded (Celery's Redis messages carry base64 bodies)."""
    out = [text]
    for token in re.findall(r"[A-Za-z0-9+/=]{16,}", text):
        for cut in range(4):
            piece = token[cut:]
            piece = piece[: len(piece) - len(piece) % 4]
            with contextlib.suppress(binascii.Error, ValueError):
                out.append(base64.b64decode(piece).decode("utf-8", "replace"))
    return "\n".join(out)


SECRET_JSON = {
    "variables": {"password": "", "release": "1.0"},
    "sensitive-variables": ["password"],
    "builders": [{"type": "null", "name": "secret", "communicator": "none"}],
    "provisioners": [{
        "type": "shell-local",
        "environment_vars": ["PW={{user `password`}}"],
        "inline": ['test "$PW" = worker-secret-7731 && echo "from-worker-env $PW"'],
    }],
}  # fmt: skip
SECRET_HCL2 = """
variable "password" {
  type      = string
  default   = ""
  sensitive = true
}
source "null" "secret" {
  communicator = "none"
}
build {
  sources = ["source.null.secret"]
  provisioner "shell-local" {
    environment_vars = ["PW=${var.password}"]
    inline           = ["test $PW = worker-secret-7731 && echo from-worker-env $PW"]
  }
}
"""


@pytest.mark.parametrize("kind", ["json", "hcl2"])
def test_sensitive_variables_never_reach_the_broker(farm: Farm, tmp_path: Path, kind: str) -> None:
    if kind == "json":
        template = write_template(tmp_path / "t", SECRET_JSON)
    else:
        (tmp_path / "t").mkdir()
        template = tmp_path / "t" / "secret.pkr.hcl"
        template.write_text(SECRET_HCL2)
    monitor = subprocess.Popen(
        [*farm.wrap, "redis-cli", "-p", str(farm.redis.port), "monitor"], stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: "OK" in (monitor.stdout.readline() if monitor.stdout else ""), "redis MONITOR", 60)
        done = farm.build("-var", "password=client-secret-5519", str(template), cwd=tmp_path)
    finally:
        monitor.terminate()
        seen = monitor.communicate(timeout=60)[0]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "from-worker-env <sensitive>" in done.stdout  # taken from the worker's PKR_VAR_password, masked
    assert "run_build" in seen  # the monitor did see the build being queued
    everything = decoded_tokens(seen)
    assert "client-secret-5519" not in everything and "worker-secret-7731" not in everything
    assert "client-secret-5519" not in done.stdout + done.stderr


VARFILE_HCL2 = """
variable "password" {
  type      = string
  default   = ""
  sensitive = true
}
variable "packages" {
  type = list(string)
}
variable "release" {
  type    = string
  default = "0.0"
}
source "null" "varfile" {
  communicator = "none"
}
build {
  sources = ["source.null.varfile"]
  provisioner "shell-local" {
    environment_vars = ["PW=${var.password}"]
    inline = [
      "echo packages=${join(\",\", var.packages)} release=${var.release}",
      "test $PW = worker-secret-7731 && echo from-worker-env $PW",
    ]
  }
}
"""


@pytest.mark.parametrize("suffix", ["hcl", "json"])
def test_hcl2_var_files_travel_without_their_sensitive_assignments(farm: Farm, tmp_path: Path, suffix: str) -> None:
    (tmp_path / "t").mkdir()
    template = tmp_path / "t" / "varfile.pkr.hcl"
    template.write_text(VARFILE_HCL2)
    first, second = tmp_path / f"a.pkrvars.{suffix}", tmp_path / f"b.pkrvars.{suffix}"
    if suffix == "hcl":
        first.write_text('packages = ["curl", "vim"]\nrelease = "1.0"\npassword = "file-secret-4406"\n')
        second.write_text('release = "2.0" # the later file wins\n')
    else:
        first.write_text('{"packages": ["curl", "vim"], "release": "1.0", "password": "file-secret-4406"}')
        second.write_text('{"release": "2.0"}')
    monitor = subprocess.Popen(
        [*farm.wrap, "redis-cli", "-p", str(farm.redis.port), "monitor"], stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: "OK" in (monitor.stdout.readline() if monitor.stdout else ""), "redis MONITOR", 60)
        done = farm.build("-var-file", str(first), "-var-file", str(second), str(template), cwd=tmp_path)
    finally:
        monitor.terminate()
        seen = monitor.communicate(timeout=60)[0]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "packages=curl,vim release=2.0" in done.stdout
    assert "from-worker-env <sensitive>" in done.stdout  # the worker's PKR_VAR_password, not the file's
    everything = decoded_tokens(seen)
    assert "run_build" in seen and "curl" in everything  # the non-sensitive values did travel
    assert "file-secret-4406" not in everything and "worker-secret-7731" not in everything
    assert "file-secret-4406" not in done.stdout + done.stderr


def test_artifacts_go_to_the_file_store_and_the_summary_says_where(farm: Farm, tmp_path: Path) -> None:
    store = tmp_path / "store"
    raw = {"builders": [{"type": "file", "name": "f", "content": "farm-made", "target": "out/result.txt"}]}
    template = write_template(tmp_path / "t", raw)
    done = farm.build(f"-artifact-store={store.as_uri()}", str(template), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    stored = list(store.glob("*/out/result.txt"))
    assert len(stored) == 1 and stored[0].read_text() == "farm-made"
    assert f"--> f: stored at {stored[0].as_uri()}" in done.stdout
    assert not (tmp_path / "t" / "out").exists()  # made on the worker, not here


def test_a_docker_build_runs_on_the_docker_worker_and_its_export_reaches_the_store(
    need_docker: None, farm: Farm, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "motd").write_text("built on the farm\n")
    raw = {
        "builders": [{"type": "docker", "image": "imagesmith-test/busybox:latest", "pull": False,
                      "run_command": ["-d", "-i", "-t", "--network", "none", "--entrypoint=/bin/sh", "--",
                                      "{{.Image}}"],
                      "export_path": "image.tar"}],
        "provisioners": [{"type": "file", "source": "motd", "destination": "/etc/motd"},
                         {"type": "shell", "inline": ["echo worker=$(cat /etc/motd)"]}],
    }  # fmt: skip
    template = write_template(tmp_path / "t", raw)
    done = farm.build(f"-artifact-store={store.as_uri()}", str(template), cwd=tmp_path / "t")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "docker: worker=built on the farm" in done.stdout
    stored = list(store.glob("*/image.tar"))
    assert len(stored) == 1
    with tarfile.open(stored[0]) as tar:  # the container's filesystem, with the uploaded file
        member = tar.extractfile("etc/motd")
        assert member is not None and member.read() == b"built on the farm\n"
    assert f"--> docker: stored at {stored[0].as_uri()}" in done.stdout


def test_a_build_sent_twice_runs_once(farm: Farm, tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    builder, provisioner = null_build("twice", f"echo run >> {counter}", "sleep 2")
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    probe = tmp_path / "probe.py"
    probe.write_text(DUPLICATE_PROBE)
    done = subprocess.run(
        [*farm.wrap, sys.executable, str(probe), farm.redis.url, str(template)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert counter.read_text() == "run\n"
    assert "skipped: already" in done.stdout  # the copy was delivered and refused, not lost


#: Queue one build three times under one id (the client's own functions), follow it to its result,
#: then once more after it finished; print what each copy's task returned.
DUPLICATE_PROBE = """
import sys, time
from pathlib import Path
from imagesmith.farm.app import make_app, send_build
from imagesmith.farm.board import Board
from imagesmith.farm.bundle import make_bundle
url, template = sys.argv[1], Path(sys.argv[2])
bundle = make_bundle(template.parent)
board = Board(url)
board.put_bundle(bundle.digest, bundle.data)
spec = {"template": template.name, "name": "twice", "vars": {}, "sensitive": [], "on_error": "cleanup",
        "force": False, "timestamps": False}
request = {"build_id": f"dup-{time.time_ns()}", "name": "twice", "bundle": bundle.digest, "store": "", "spec": spec}
app = make_app(url)
for _ in range(2):
    send_build(app, request, "imagesmith.any")
deadline = time.monotonic() + 240
while board.result(request["build_id"]) is None:
    assert time.monotonic() < deadline, "no result"
    time.sleep(0.2)
from imagesmith.farm.task import serve_request, WorkerConfig
import os
os.environ.update(WorkerConfig(url, "probe", Path(template.parent / "probe-data"), 5.0).to_env())
print("skipped:", serve_request(request))
assert board.result(request["build_id"])["error"] is None
"""

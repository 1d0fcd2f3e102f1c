"""The moto harness for every amazon test, and the tests that the harness itself holds.

How AWS traffic is kept on this machine: moto's server is started as the first process of a
new network namespace that has only loopback (``unshare -n python -c <bring lo up; exec python
-m moto.server -H 127.0.0.1 -p 5000>``, as root; lo is brought up with an ioctl, so iproute2 is
not needed). Everything that talks AWS joins that
namespace instead of creating its own: builds (imagesmith's and Packer's) and the test sshd run
under ``nsenter --net=/proc/<moto pid>/ns/net``, and the test's own boto3 checks run on one
worker thread that entered the namespace with ``setns(2)``. So moto is reachable at
127.0.0.1:5000 from everything that needs it, and any endpoint the SDK picks on its own (instance
metadata, real regional hosts, STS) fails at once ("network is unreachable") instead of leaving
the machine. The namespace lives exactly as long as moto's process: stopping moto by its pid
removes it, nothing to clean up besides.

moto is seeded with source AMIs through ``MOTO_AMIS_PATH`` (its own RegisterImage makes AMIs
that Packer refuses as a source) and records every request (``MOTO_ENABLE_RECORDING``) into a
file the test reads as the ordered list of API calls.
"""

from __future__ import annotations

import base64
import concurrent.futures
import ctypes
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import require_tool
from tests.packer_oracle import survive_crash

pytestmark = pytest.mark.integration
T = TypeVar("T")
PORT = 5000  # the namespace is new and empty: any port is free in it
ENDPOINT = f"http://127.0.0.1:{PORT}"
CLONE_NEWNET = 0x40000000
OWNER = "099720109477"
#: source AMIs seeded into every region (root device type ebs, as Packer requires)
SOURCE_AMIS: list[dict[str, Any]] = [
    {"ami_id": "ami-21055220", "name": "ubuntu/images/ubuntu-precise-12.04-amd64-server-20170502",
     "creation_date": "2017-05-02T00:00:00.000Z"},
    {"ami_id": "ami-0a1b2c3d", "name": "ubuntu/images/ubuntu-focal-20.04-amd64-server-20201026",
     "creation_date": "2020-10-26T00:00:00.000Z"},
    {"ami_id": "ami-0f0e0d0c", "name": "ubuntu/images/ubuntu-focal-20.04-amd64-server-20201201",
     "creation_date": "2020-12-01T00:00:00.000Z"},
]  # fmt: skip
AMI_DEFAULTS = {
    "state": "available", "public": True, "owner_id": OWNER, "image_location": "amazon/ubuntu",
    "sriov": "simple", "root_device_type": "ebs", "root_device_name": "/dev/sda1", "description": "seeded",
    "image_type": "machine", "platform": None, "architecture": "x86_64", "virtualization_type": "hvm",
    "hypervisor": "xen",
}  # fmt: skip
#: what every AWS client in a test sees: dummy keys, no metadata service, every endpoint local
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTESTTEST",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key-never-printed",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": ENDPOINT,
    **{f"AWS_ENDPOINT_URL_{svc}": ENDPOINT for svc in ("EC2", "STS", "IAM", "SSM", "S3", "KMS", "SECRETSMANAGER")},
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "CHECKPOINT_DISABLE": "1",
}


def _moto_importable() -> bool:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return False
    return True


def _enter_netns(pid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns failed")
    finally:
        os.close(fd)


@dataclass
class Call:
    """One recorded API request: the action, the region it was signed for, its parameters."""

    action: str
    region: str
    params: dict[str, str]


@dataclass
class Moto:
    """A moto server alone in a loopback-only network namespace."""

    dir: Path
    proc: subprocess.Popen[bytes]
    _pool: concurrent.futures.ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1, initializer=_enter_netns, initargs=(self.proc.pid,))

    @property
    def recording(self) -> Path:
        return self.dir / "recording.jsonl"

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the thread that lives in moto's namespace (its sockets connect there)."""
        return self._pool.submit(fn).result(timeout=120)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        import boto3

        def make() -> Any:
            return boto3.client(service, region_name=region, endpoint_url=ENDPOINT,
                                aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])  # fmt: skip

        return self.call(make)

    def ec2(self, method: str, region: str = "us-east-1", **kwargs: Any) -> Any:
        client = self.client("ec2", region)
        return self.call(lambda: getattr(client, method)(**kwargs))

    def run(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run ``argv`` inside the namespace with the AWS test environment."""
        full_env = {**os.environ, **AWS_ENV, **(env or {})}
        for key in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SESSION_TOKEN"):
            if env is None or key not in env:
                full_env.pop(key, None)

        def once() -> subprocess.CompletedProcess[str]:
            return subprocess.run(self.nsenter(argv), env=full_env, cwd=cwd, capture_output=True, text=True,
                                  timeout=timeout)  # fmt: skip

        if argv[0] != "packer":
            return once()
        # the live oracle: through the suite's one crash-tolerant helper (a Packer crash is run once more)
        return survive_crash(cwd or Path.cwd(), " ".join(argv), once, lambda done: done.stdout + done.stderr)

    def nsenter(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.proc.pid}/ns/net", "--", *argv]

    def reset_recording(self) -> None:
        self.recording.write_text("")

    def calls(self) -> list[Call]:
        """The recorded requests in order (signed region from the Authorization header)."""
        out = []
        for line in self.recording.read_text().splitlines():
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            query = urllib.parse.urlparse(entry["url"]).query
            params |= dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            auth = entry["headers"].get("Authorization", "")
            region = auth.split("Credential=")[1].split("/")[2] if "Credential=" in auth else ""
            target = entry["headers"].get("X-Amz-Target", "")
            action = params.pop("Action", "") or target.rsplit(".", 1)[-1] or entry["method"]
            params.pop("Version", None)
            out.append(Call(action, region, params))
        return out

    def actions(self) -> list[str]:
        return [c.action for c in self.calls()]

    def stop(self) -> None:
        self._pool.shutdown(wait=True)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def start_moto(directory: Path, amis: list[dict[str, Any]] | None = None) -> Moto:
    """Start moto in a new loopback-only namespace, seeded with ``amis`` (default SOURCE_AMIS)."""
    directory.mkdir(parents=True, exist_ok=True)
    seeded = [{**AMI_DEFAULTS, **ami} for ami in (SOURCE_AMIS if amis is None else amis)]
    (directory / "amis.json").write_text(json.dumps(seeded))
    env = {
        **os.environ,
        "MOTO_AMIS_PATH": str(directory / "amis.json"),
        "MOTO_ENABLE_RECORDING": "true",
        "MOTO_RECORDER_FILEPATH": str(directory / "recording.jsonl"),
    }
    log = (directory / "moto.log").open("wb")
    argv = ["unshare", "-n", sys.executable, "-c", _LO_UP_THEN_MOTO, str(PORT)]
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 60
    own = os.readlink("/proc/self/ns/net")
    while _netns_of(proc.pid) in (own, ""):  # unshare has not switched yet: joining now would join ours
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"unshare -n failed: {(directory / 'moto.log').read_text()[-2000:]}")
        time.sleep(0.01)
    moto = Moto(directory, proc)
    while not moto.call(_listening):
        if proc.poll() is not None or time.monotonic() > deadline:
            moto.stop()
            raise RuntimeError(f"moto did not start: {(directory / 'moto.log').read_text()[-2000:]}")
        time.sleep(0.05)
    return moto


#: ``ip link set lo up`` without needing iproute2 (SIOCGIFFLAGS/SIOCSIFFLAGS), then exec moto's server
_LO_UP_THEN_MOTO = """
import fcntl, os, socket, struct, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH14s", fcntl.ioctl(sock, 0x8913, struct.pack("16sH14s", b"lo", 0, b"")))[1]
fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))
sock.close()
os.execv(sys.executable, [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", sys.argv[1]])
"""


def _netns_of(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def _listening() -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", PORT)) == 0


def netns_usable() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None and shutil.which("nsenter") is not None


@pytest.fixture(name="moto")
def moto_fixture(tmp_path: Path) -> Iterator[Moto]:
    """A fresh moto server in its own loopback-only namespace (fails under CI when missing)."""
    require_tool(_moto_importable(), "needs moto[server] (pip install -e '.[test]')")
    require_tool(netns_usable(), "needs root, unshare and nsenter for the loopback-only network namespace")
    server = start_moto(tmp_path / "moto")
    try:
        yield server
    finally:
        server.stop()


def test_moto_namespace_is_loopback_only(moto: Moto) -> None:
    """Inside the namespace moto answers and nothing else is reachable (no metadata service)."""
    probe = "import socket; s = socket.socket(); s.settimeout(3); print(s.connect_ex(('169.254.169.254', 80)))"
    result = moto.run([sys.executable, "-c", probe])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != "0"
    images = moto.ec2("describe_images", ImageIds=["ami-21055220"])["Images"]
    assert [(i["ImageId"], i["RootDeviceType"]) for i in images] == [("ami-21055220", "ebs")]
    assert "DescribeImages" in moto.actions()

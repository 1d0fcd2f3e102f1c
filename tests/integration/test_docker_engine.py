"""The docker builder's Engine API client: DOCKER_HOST as the CLI reads it, clear errors, no leftovers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagesmith.builders.docker.driver import ContainerSpec, Driver
from imagesmith.communicator.docker import DockerCommunicator

from ..conftest import run_cli
from .docker_support import BASE_IMAGE

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
SOCKET = "/var/run/docker.sock"


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    subprocess.run(["bash", str(ROOT / "scripts/fixtures/docker-base-image.sh")], check=True)


def forward(client: socket.socket) -> None:
    """Relay one TCP client to the daemon's unix socket, both ways, each direction closed on its own."""
    upstream = socket.socket(socket.AF_UNIX)
    upstream.connect(SOCKET)

    def pump(src: socket.socket, dst: socket.socket) -> None:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)

    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    try:
        pump(client, upstream)
        back.join(60)
    except OSError:
        pass
    finally:
        client.close()
        upstream.close()


@pytest.fixture
def tcp_daemon() -> Iterator[str]:
    """``tcp://127.0.0.1:<port>``: a relay to the local daemon's socket, started and stopped here."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=forward, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        server.close()


async def exercise() -> tuple[int, list[str], str]:
    """Start a container, run a command with stdin, upload and read back a file; remove the container."""
    driver = Driver()
    spec = ContainerSpec(image=BASE_IMAGE, run_command=["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"])
    container = await driver.start_container(spec)
    try:
        comm = DockerCommunicator(container)
        lines: list[str] = []
        status = await comm.execute("cat; exit 4", stdin=b"through stdin\n", stdout=lines.append)
        await comm.upload("/tmp/up.txt", b"uploaded\n")
        await comm.execute("cat /tmp/up.txt", stdout=lines.append)
        return status, lines, container
    finally:
        await driver.kill_container(container)


@pytest.mark.parametrize("scheme", ["unix", "tcp"])
def test_docker_host_is_honoured(scheme: str, tcp_daemon: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{SOCKET}" if scheme == "unix" else tcp_daemon)
    status, lines, container = asyncio.run(exercise())
    assert (status, lines) == (4, ["through stdin", "uploaded"])
    gone = subprocess.run(["docker", "inspect", container], capture_output=True)
    assert gone.returncode != 0  # removed


def test_unreachable_daemon_is_a_clear_error(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(
        json.dumps({"builders": [{"type": "docker", "image": BASE_IMAGE, "pull": False, "discard": True}]})
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    done = run_cli("build", str(template), cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "docker run failed (could not reach the Docker daemon)" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_api_errors_show_operation_status_and_message(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    builder = {"type": "docker", "image": "imagesmith-test/no-such-image:1", "pull": False, "discard": True}
    template.write_text(json.dumps({"builders": [builder]}))
    done = run_cli("build", str(template), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "docker run failed (HTTP 404): No such image: imagesmith-test/no-such-image:1" in output
    assert "Traceback" not in output


def test_cancelled_start_leaves_no_container() -> None:
    """Ctrl-C while the container is being created or started: whatever the daemon made is removed."""
    prefix = f"imagesmith-cancel-{os.getpid()}-"
    command = ["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]

    async def start_and_cancel(delay: float, index: int) -> None:
        spec = ContainerSpec(image=BASE_IMAGE, run_command=command, name=f"{prefix}{index}")
        task = asyncio.ensure_future(Driver().start_container(spec))
        await asyncio.sleep(delay)
        task.cancel()
        try:
            container = await task
        except asyncio.CancelledError:
            return
        await Driver().kill_container(container)  # finished before the cancel arrived

    for index, delay in enumerate([0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4]):
        asyncio.run(start_and_cancel(delay, index))
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name={prefix}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert left == []


def test_pty_exec_streams_output_and_exit_status() -> None:
    """``pty: true``: the command has a terminal; its output (stderr merged, as on a tty) and status come back."""

    async def run_with_tty() -> tuple[int, list[str]]:
        driver = Driver()
        spec = ContainerSpec(
            image=BASE_IMAGE, run_command=["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
        )
        container = await driver.start_container(spec)
        try:
            lines: list[str] = []
            status = await DockerCommunicator(container, tty=True).execute(
                "test -t 0 && echo tty; echo to-err >&2; exit 5", stdout=lines.append, stderr=lines.append
            )
            return status, lines
        finally:
            await driver.kill_container(container)

    assert asyncio.run(run_with_tty()) == (5, ["tty", "to-err"])

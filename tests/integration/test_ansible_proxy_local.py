"""The ansible provisioner's SSH proxy against Debian's OpenSSH client, relaying to local processes.

A communicator whose commands run on this machine stands for the guest, so the proxy's own behaviour
(keys OpenSSH accepts without ``+ssh-rsa``, exec with stdin/stdout/stderr and exit status, the sftp
subsystem, who may log in, nothing left after ``close``) is checked in a few seconds, no container.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from imagesmith.core.plugin import STDERR, STDOUT, Communicator, LineCallback, RemoteProcess
from imagesmith.provisioners.ansible_proxy import Proxy, ProxySettings, start_proxy

from ..conftest import require_tool
from ..unit.cm_fakes import ListUi

pytestmark = pytest.mark.integration
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


class LocalProcess(RemoteProcess):
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        assert proc.stdout is not None and proc.stderr is not None
        self.pumps = [
            asyncio.ensure_future(self._pump(STDOUT, proc.stdout)),
            asyncio.ensure_future(self._pump(STDERR, proc.stderr)),
        ]
        self.open = 2

    async def _pump(self, which: int, reader: asyncio.StreamReader) -> None:
        while data := await reader.read(65536):
            await self.queue.put((which, data))
        await self.queue.put(None)

    async def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def write_eof(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    async def read(self) -> tuple[int, bytes] | None:
        while self.open:
            item = await self.queue.get()
            if item is not None:
                return item
            self.open -= 1
        return None

    async def wait(self) -> int:
        return await self.proc.wait()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class LocalComm(Communicator):
    """Runs each command with /bin/sh on this machine (what a guest would do)."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    async def start_process(self, command: str) -> RemoteProcess:
        self.commands.append(command)
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        return LocalProcess(proc)

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        raise AssertionError("the proxy streams")

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        raise AssertionError("not used")

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        raise AssertionError("not used")

    async def download(self, src: str, dst: Path) -> None:
        raise AssertionError("not used")

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        raise AssertionError("not used")


def ssh_options(proxy: Proxy) -> list[str]:
    return [
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes", "-o", f"Port={proxy.port}", "-i", proxy.key_file,
    ]  # fmt: skip


def ssh_argv(proxy: Proxy, user: str, *extra: str) -> list[str]:
    return [*ssh_options(proxy), *extra, f"{user}@127.0.0.1"]


async def client(*argv: str, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    return proc.returncode or 0, out, err


def test_proxy_relays_exec_and_sftp_with_modern_keys_and_leaves_nothing(tmp_path: Path) -> None:
    require_tool(shutil.which("ssh") is not None and os.path.exists(SFTP_SERVER), "needs OpenSSH's ssh and sftp-server")
    user = getpass.getuser()
    comm, ui = LocalComm(), ListUi()

    async def scenario() -> tuple[Proxy, list[tuple[int, bytes, bytes]]]:
        proxy = await start_proxy(ProxySettings(user=user, sftp_command=SFTP_SERVER), comm, ui)
        try:
            assert oct(os.stat(proxy.key_file).st_mode & 0o777) == "0o600"
            source = tmp_path / "up.bin"
            source.write_bytes(bytes(range(256)) * 4000)
            batch = tmp_path / "batch"
            batch.write_text(f"put {source} {tmp_path}/remote.bin\nget {tmp_path}/remote.bin {tmp_path}/back.bin\n")
            results = [
                await client("ssh", *ssh_argv(proxy, user, "-tt"), "echo out; echo err >&2; exit 3"),
                await client("ssh", *ssh_argv(proxy, user), "tr a-z A-Z", stdin=b"piped input\n"),
                await client("sftp", "-b", str(batch), *ssh_options(proxy), f"{user}@127.0.0.1"),
                await client("ssh", *ssh_argv(proxy, "intruder"), "true"),
            ]
            assert results[2][0] == 0, results[2]
            assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
            return proxy, results
        finally:
            await proxy.close()

    proxy, (status, plain, sftp, intruder) = asyncio.run(scenario())
    assert status[0] == 3 and status[1].replace(b"\r", b"") == b"out\n" and b"err" in status[2]
    assert plain[:2] == (0, b"PIPED INPUT\n")
    assert sftp[0] == 0, sftp[2]
    assert intruder[0] == 255 and b"Permission denied" in intruder[2]
    assert SFTP_SERVER in comm.commands
    assert not os.path.exists(proxy.key_file)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", proxy.port)) != 0


def test_proxy_uses_the_users_keys_and_tries_ten_ports(tmp_path: Path) -> None:
    require_tool(shutil.which("ssh-keygen") is not None, "needs OpenSSH's ssh-keygen")
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / name)], check=True)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    first = blocker.getsockname()[1]
    settings = ProxySettings(
        user="me",
        local_port=first,
        host_key_file=str(tmp_path / "host"),
        authorized_key_file=str(tmp_path / "user.pub"),
    )
    ui = ListUi()

    async def scenario() -> tuple[int, str, tuple[int, bytes, bytes]]:
        proxy = await start_proxy(settings, LocalComm(), ui)
        try:
            argv = [
                "ssh", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "BatchMode=yes",
                "-i", str(tmp_path / "user"), "-p", str(proxy.port), "-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256",
                "me@127.0.0.1", "echo ok",
            ]  # fmt: skip
            return proxy.port, proxy.key_file, await client(*argv)
        finally:
            await proxy.close()

    try:
        port, key_file, result = asyncio.run(scenario())
    finally:
        blocker.close()
    assert port != first and key_file == ""
    assert result[:2] == (0, b"ok\n"), result[2]
    assert any("bind" in message for kind, message in ui.lines)

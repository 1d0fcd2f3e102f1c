"""The SSH communicator against a real OpenSSH sshd on 127.0.0.1 (started and stopped by pid here)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from imagesmith.communicator.ssh import SshCommunicator
from imagesmith.communicator.ssh_connect import SshSettings, make_key_pair
from imagesmith.core.plugin import CMD_DISCONNECT
from imagesmith.errors import BuildError

pytestmark = pytest.mark.integration
SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sshd:
    dir: Path
    port: int
    key: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def settings(self, **kw: object) -> SshSettings:
        base = SshSettings(host="127.0.0.1", port=self.port, username="root", private_key_files=(str(self.key),),
                           timeout=10.0)  # fmt: skip
        return replace(base, **kw)  # type: ignore[arg-type]

    def authorize(self, public_key: str) -> None:
        with (self.dir / "authorized_keys").open("a") as fh:
            fh.write(public_key + "\n")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    if not (os.path.exists(SSHD) and os.geteuid() == 0 and shutil.which("ssh-keygen")):
        pytest.skip("needs root and OpenSSH's sshd")
    made_run = not os.path.isdir("/run/sshd")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    d = tmp_path / "sshd"
    d.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    shutil.copy(d / "client.pub", d / "authorized_keys")
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n"
        f"PidFile {d}/sshd.pid\nUsePAM no\nStrictModes no\nPermitRootLogin yes\nAllowTcpForwarding yes\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
    )
    server = Sshd(d, port, d / "client")
    server.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.stop()
        if made_run:
            os.rmdir("/run/sshd")


async def _open(s: SshSettings) -> SshCommunicator:
    return await SshCommunicator.open(s)


def test_execute_streams_status_pty_and_disconnect(sshd: Sshd) -> None:
    async def main() -> None:
        comm = await _open(sshd.settings())
        try:
            out: list[str] = []
            err: list[str] = []
            status = await comm.execute("echo out; echo err >&2; cat; exit 3", stdout=out.append, stderr=err.append,
                                        stdin=b"from stdin\n")  # fmt: skip
            assert (status, out, err) == (3, ["out", "from stdin"], ["err"])
            assert await comm.execute("tty -s") == 1  # no pty by default
            assert await comm.execute("kill -9 $PPID") == CMD_DISCONNECT
        finally:
            await comm.close()
        comm = await _open(sshd.settings(pty=True))
        try:
            lines: list[str] = []
            assert await comm.execute("tty; echo merged >&2", stdout=lines.append) == 0
            assert lines[0].startswith("/dev/pts/") and "merged" in lines
        finally:
            await comm.close()

    asyncio.run(main())


@pytest.mark.parametrize("method", ["scp", "sftp"])
def test_files_and_directories(sshd: Sshd, tmp_path: Path, method: str) -> None:
    local = tmp_path / "tree"
    (local / "sub").mkdir(parents=True)
    (local / "a.txt").write_text("A\n")
    (local / "sub" / "b.sh").write_text("#!/bin/sh\n")
    (local / "sub" / "b.sh").chmod(0o750)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 << 20))
    remote = tmp_path / "remote"  # the "guest" is this machine
    remote.mkdir()

    async def main() -> None:
        comm = await _open(sshd.settings(file_transfer=method))
        try:
            await comm.upload(f"{remote}/bytes.txt", b"hello\n", mode=0o600)
            await comm.upload(f"{remote}/big.bin", big)
            await comm.upload_dir(f"{remote}/with", local)
            await comm.upload_dir(f"{remote}/contents", str(local) + "/")
            await comm.download(f"{remote}/big.bin", tmp_path / "back.bin")
            await comm.download_dir(f"{remote}/contents", tmp_path / "back")
            with pytest.raises(BuildError):
                await comm.download(f"{remote}/missing", tmp_path / "x")
            with pytest.raises(BuildError):
                await comm.upload(f"{remote}/no/such/dir/x", b"x")
        finally:
            await comm.close()

    asyncio.run(main())
    assert (remote / "bytes.txt").read_text() == "hello\n"
    assert (remote / "bytes.txt").stat().st_mode & 0o777 == 0o600
    assert (remote / "big.bin").read_bytes() == big.read_bytes()
    assert (remote / "with" / "tree" / "sub" / "b.sh").stat().st_mode & 0o777 == 0o750
    assert (remote / "contents" / "a.txt").read_text() == "A\n"
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == ["a.txt", "sub"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".imagesmith-download-")]


def test_temporary_key_pair_and_agent(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = make_key_pair("ed25519")
    assert public.startswith("ssh-ed25519 ")
    sshd.authorize(public)

    async def with_temp_key() -> int:
        comm = await _open(sshd.settings(private_key_files=(), private_keys=(private,)))
        try:
            return await comm.execute("true")
        finally:
            await comm.close()

    assert asyncio.run(with_temp_key()) == 0

    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(sshd.key)], env=env, check=True, stderr=subprocess.DEVNULL)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))

        async def with_agent() -> list[str]:
            comm = await _open(sshd.settings(private_key_files=(), agent_auth=True, agent_forwarding=True))
            try:
                lines: list[str] = []
                await comm.execute('test -n "$SSH_AUTH_SOCK" && echo forwarded', stdout=lines.append)
                return lines
            finally:
                await comm.close()

        assert asyncio.run(with_agent()) == ["forwarded"]
    finally:
        agent.terminate()
        agent.wait(5)


def test_bastion(sshd: Sshd) -> None:
    async def main() -> int:
        settings = sshd.settings(bastion=sshd.settings())
        comm = await _open(settings)
        try:
            return await comm.execute('test -n "$SSH_CONNECTION"')
        finally:
            await comm.close()

    assert asyncio.run(main()) == 0


def test_polls_fast_until_server_starts(sshd: Sshd) -> None:
    sshd.stop()

    async def main() -> float:
        async def start_later() -> float:
            await asyncio.sleep(1.0)
            sshd.start()
            return time.monotonic()

        starter = asyncio.ensure_future(start_later())
        comm = await _open(sshd.settings())
        connected = time.monotonic()
        await comm.close()
        return connected - await starter

    lag = asyncio.run(main())
    assert lag < 4.0, lag  # Packer would wait for its next 5 s probe


def test_auth_failure_is_counted_and_reported(sshd: Sshd, tmp_path: Path) -> None:
    wrong, _ = make_key_pair("ed25519")
    t0 = time.monotonic()
    with pytest.raises(BuildError, match=r"authentication failed 2 times: tried 127\.0\.0\.1:\d+ 2 times"):
        asyncio.run(_open(sshd.settings(private_key_files=(), private_keys=(wrong,), handshake_attempts=2)))
    assert time.monotonic() - t0 < 5


def test_timeout_says_what_answered(tmp_path: Path) -> None:
    port = _free_port()
    settings = SshSettings(host="127.0.0.1", port=port, username="root", timeout=1.2)
    with pytest.raises(BuildError, match=rf"Timeout waiting for SSH after 1\.2s: tried 127\.0\.0\.1:{port} \d+ times; "
                       r"answers: connection refused \d+x"):  # fmt: skip
        asyncio.run(_open(settings))

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    try:
        settings = replace(settings, port=silent.getsockname()[1], timeout=2.0)
        with pytest.raises(BuildError, match="timed out: no SSH banner"):
            asyncio.run(_open(settings))
    finally:
        silent.close()


@pytest.mark.parametrize("method", ["scp", "sftp"])
def test_shell_and_file_provisioners_over_ssh(sshd: Sshd, tmp_path: Path, method: str) -> None:
    from imagesmith.core.plugin import BuildInfo
    from imagesmith.errors import Problem
    from imagesmith.provisioners.file import FileProvisioner as FILE
    from imagesmith.provisioners.shell import ShellProvisioner as SHELL
    from imagesmith.template.decode import decode_config
    from imagesmith.ui import Ui

    class Quiet(Ui):
        def __init__(self) -> None:
            self.lines: list[str] = []

        def _write(self, kind: str, message: str) -> None:
            self.lines.append(message)

    info = BuildInfo(build_name="b", builder_type="qemu")
    script = tmp_path / "mark.sh"
    script.write_text('#!/bin/sh\necho "mark=$MARK" > "$DEST/mark"\n')
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "d" / "f.txt").write_text("F\n")
    dest = tmp_path / "guest"
    dest.mkdir()

    def make(plugin: type, raw: dict[str, object]) -> object:
        problems: list[Problem] = []
        cfg = decode_config(plugin.config_class, raw, render=None, path="p", problems=problems)  # type: ignore[attr-defined]
        assert problems == []
        return plugin(cfg, info)

    provisioners = [
        make(SHELL, {"inline": [f"echo inline > {dest}/inline"]}),
        make(SHELL, {"script": str(script), "environment_vars": ["MARK=from-test", f"DEST={dest}"]}),
        make(FILE, {"source": str(tree), "destination": str(dest)}),
        make(FILE, {"source": str(tree) + "/", "destination": f"{dest}/contents"}),
        make(FILE, {"direction": "download", "source": f"{dest}/mark", "destination": str(tmp_path / "mark")}),
    ]
    ui = Quiet()

    async def main() -> None:
        comm = await _open(sshd.settings(file_transfer=method))
        try:
            for p in provisioners:
                await p.provision(ui, comm, {})  # type: ignore[attr-defined]
        finally:
            await comm.close()

    asyncio.run(main())
    assert (dest / "inline").read_text() == "inline\n"
    assert (tmp_path / "mark").read_text() == "mark=from-test\n"
    assert (dest / "tree" / "d" / "f.txt").read_text() == "F\n"
    assert (dest / "contents" / "d" / "f.txt").read_text() == "F\n"


def test_local_tunnel(sshd: Sshd) -> None:
    async def main() -> bytes:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"echo:" + await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        target = server.sockets[0].getsockname()[1]
        local = _free_port()
        comm = await _open(sshd.settings(local_tunnels=(f"{local}:127.0.0.1:{target}",)))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", local)
            writer.write(b"hi\n")
            await writer.drain()
            answer = await reader.read()
            writer.close()
            return answer
        finally:
            await comm.close()
            server.close()

    assert asyncio.run(main()) == b"echo:hi\n"

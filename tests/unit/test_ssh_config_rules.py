"""SSH communicator options: Packer's prepare-time rules, defaults, the legacy alias; password auth
against an in-process asyncssh server (the real sshd tests use keys: root has no password here)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagesmith.communicator.ssh import SshCommunicator
from imagesmith.communicator.ssh_config import SSH_USERNAME_MISSING, CommunicatorConfig
from imagesmith.communicator.ssh_connect import SshSettings
from imagesmith.errors import BuildError, Problem
from imagesmith.template.decode import decode_config
from imagesmith.template.values import Duration


@dataclass(frozen=True)
class Cfg(CommunicatorConfig):
    def check(self) -> list[str]:
        return list(self.check_communicator())


def _decode(raw: dict[str, object]) -> tuple[Cfg, list[str]]:
    problems: list[Problem] = []
    cfg = decode_config(Cfg, raw, render=None, path="builders[0]", problems=problems)
    return cfg, [p.message for p in problems]


def test_username_required_and_defaults() -> None:
    cfg, problems = _decode({})
    assert problems == [SSH_USERNAME_MISSING]
    cfg, problems = _decode({"ssh_username": "u"})
    assert problems == []
    assert (cfg.effective_ssh_timeout, cfg.effective_ssh_port, cfg.effective_handshake_attempts) == (300.0, 22, 10)
    assert cfg.ssh_keep_alive_interval == Duration(5)
    s = cfg.ssh_settings("127.0.0.1", 2222)
    assert (s.file_transfer, s.agent_forwarding, s.bastion, s.proxy) == ("scp", True, None, None)


def test_legacy_wait_timeout_and_none_communicator() -> None:
    cfg, _ = _decode({"ssh_username": "u", "ssh_wait_timeout": "20m"})
    assert cfg.effective_ssh_timeout == 1200.0
    cfg, _ = _decode({"ssh_username": "u", "ssh_wait_timeout": "20m", "ssh_timeout": "1m"})
    assert cfg.effective_ssh_timeout == 60.0
    assert _decode({"communicator": "none"})[1] == []
    assert _decode({"communicator": "telnet"})[1] == ["Communicator type telnet is invalid"]


def test_rules(tmp_path: Path) -> None:
    _, problems = _decode({
        "ssh_username": "u", "ssh_private_key_file": str(tmp_path / "nokey"), "ssh_file_transfer_method": "ftp",
        "temporary_key_pair_type": "dss", "ssh_bastion_host": "b", "ssh_proxy_host": "p",
        "ssh_local_tunnels": ["8080:localhost"],
    })  # fmt: skip
    assert problems == [
        f"ssh_private_key_file is invalid: stat {tmp_path}/nokey: no such file or directory",
        "temporary_key_pair_type 'dss' is invalid, valid types: rsa, dsa, ecdsa, ed25519",
        "ssh_file_transfer_method ('ftp') is invalid, valid methods: sftp, scp",
        "please specify either ssh_bastion_host or ssh_proxy_host, not both",
        "ssh_local_tunnels: '8080:localhost' is not in the form [bind:]port:host:hostport",
    ]
    _, problems = _decode({"ssh_username": "u", "ssh_bastion_host": "b"})
    assert problems == ["ssh_bastion_password or ssh_bastion_private_key_file must be specified"]


def test_bastion_settings_inherit_private_key(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text("x")
    cfg, problems = _decode({"ssh_username": "u", "ssh_private_key_file": str(key), "ssh_bastion_host": "jump",
                             "ssh_bastion_username": "j"})  # fmt: skip
    assert problems == []
    s = cfg.ssh_settings("10.0.0.5", 22)
    assert s.bastion is not None
    assert (s.bastion.host, s.bastion.port, s.bastion.private_key_files) == ("jump", 22, (str(key),))


def test_password_auth_against_asyncssh_server() -> None:
    import asyncssh

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return (username, password) == ("packer", "s3cret")

    async def handle(process: asyncssh.SSHServerProcess[str]) -> None:
        process.stdout.write(f"ran {process.command}\n")
        process.exit(7)

    async def main() -> tuple[int, list[str]]:
        key = asyncssh.generate_private_key("ssh-ed25519")
        server = await asyncssh.listen("127.0.0.1", 0, server_host_keys=[key], server_factory=Server,
                                       process_factory=handle)  # fmt: skip
        port = server.sockets[0].getsockname()[1]
        try:
            base = SshSettings(host="127.0.0.1", port=port, username="packer", password="s3cret", timeout=5)
            comm = await SshCommunicator.open(base)
            lines: list[str] = []
            status = await comm.execute("hello", stdout=lines.append)
            await comm.close()
            bad = SshSettings(host="127.0.0.1", port=port, username="packer", password="no", timeout=5,
                              handshake_attempts=1)  # fmt: skip
            with pytest.raises(BuildError, match="authentication failed 1 times"):
                await SshCommunicator.open(bad)
            return status, lines
        finally:
            server.close()
            await server.wait_closed()

    assert asyncio.run(main()) == (7, ["ran hello"])


def test_closed_before_banner_is_reported() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def close_all() -> None:
            while True:
                conn, _ = await loop.sock_accept(listener)
                conn.close()

        listener.setblocking(False)
        closer = asyncio.ensure_future(close_all())
        try:
            with pytest.raises(BuildError, match="closed before the SSH banner"):
                await SshCommunicator.open(SshSettings(host="127.0.0.1", port=port, username="u", timeout=1.0))
        finally:
            closer.cancel()

    try:
        asyncio.run(main())
    finally:
        listener.close()

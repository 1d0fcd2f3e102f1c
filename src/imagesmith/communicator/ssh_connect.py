"""Reaching a guest's SSH server: the polling connect loop, bastion hosts, temporary keys.

Packer probes the port every 5 s with one attempt pending. Behind QEMU's user-mode network a
pending attempt only succeeds at one of QEMU's SYN retransmit instants (+6 s, +18 s, ...), so
imagesmith starts a fresh TCP attempt every :data:`PROBE_INTERVAL` and keeps each alive for
:data:`PROBE_TIMEOUT` while it waits for the server's banner (several overlap); the first that
shows a banner gets the SSH handshake. A server too slow to show its banner in time (a guest
starved of CPU) gets longer: each attempt that timed out adds :data:`PROBE_TIMEOUT_STEP`, up to
:data:`MAX_PROBE_TIMEOUT`. A timeout error says what was tried and what answered.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagesmith.errors import BuildError
from imagesmith.template.values import format_go_duration
from imagesmith.ui import Ui

if TYPE_CHECKING:
    import asyncssh

PROBE_INTERVAL = 0.25
PROBE_TIMEOUT = 1.5
PROBE_TIMEOUT_STEP = 0.5
MAX_PROBE_TIMEOUT = 15.0
MAX_PROBES = 6
AUTH_RETRY_DELAY = 0.5


@dataclass(frozen=True)
class SshSettings:
    """Everything needed to open one SSH connection (built from a CommunicatorConfig)."""

    host: str
    port: int
    username: str
    password: str = ""
    private_key_files: tuple[str, ...] = ()
    private_keys: tuple[str, ...] = ()  # PEM/OpenSSH text (temporary key pairs)
    certificate_file: str = ""  # signs the first private key file
    local_tunnels: tuple[str, ...] = ()  # [bind:]port:host:hostport, as ssh -L
    remote_tunnels: tuple[str, ...] = ()  # [bind:]port:host:hostport, as ssh -R
    agent_auth: bool = False
    agent_forwarding: bool = False
    pty: bool = False
    timeout: float = 300.0
    handshake_attempts: int = 10
    keepalive: float = 5.0
    file_transfer: str = "scp"
    ciphers: tuple[str, ...] = ()
    kex: tuple[str, ...] = ()
    bastion: SshSettings | None = None
    proxy: tuple[str, int, str, str] | None = None  # host, port, user, password (SOCKS5)


@dataclass
class _Tally:
    attempts: int = 0
    answers: collections.Counter[str] = field(default_factory=collections.Counter)
    last: str = "nothing yet"

    def note(self, what: str) -> None:
        self.answers[what.split(":")[0]] += 1
        self.last = what

    @property
    def probe_timeout(self) -> float:
        """How long the next attempt waits for a banner: longer after each one that timed out."""
        return min(PROBE_TIMEOUT + PROBE_TIMEOUT_STEP * self.answers["timed out"], MAX_PROBE_TIMEOUT)


def make_key_pair(kind: str = "rsa", bits: int = 0, comment: str = "packer") -> tuple[str, str]:
    """A temporary key pair: ``(private key in OpenSSH format, public key line ending in ``comment``)``."""
    import asyncssh

    algs = {"rsa": "ssh-rsa", "ed25519": "ssh-ed25519", "ecdsa": "ecdsa-sha2-nistp256", "dsa": "ssh-dss"}
    alg = algs.get(kind or "rsa", "ssh-rsa")
    if kind == "ecdsa" and bits in (384, 521):
        alg = f"ecdsa-sha2-nistp{bits}"
    kwargs: dict[str, Any] = (
        {"key_size": bits or (4096 if alg == "ssh-rsa" else 1024)} if kind in ("rsa", "dsa", "") else {}
    )
    key = asyncssh.generate_private_key(alg, comment=comment, **kwargs)
    private = key.export_private_key("openssh").decode()
    public = key.export_public_key("openssh").decode().strip()
    return private, public


def _client_options(s: SshSettings) -> dict[str, Any]:
    import asyncssh

    keys: list[Any] = [asyncssh.read_private_key(os.path.expanduser(p)) for p in s.private_key_files]
    if keys and s.certificate_file:
        keys[0] = (keys[0], asyncssh.read_certificate(os.path.expanduser(s.certificate_file)))
    keys += [asyncssh.import_private_key(text) for text in s.private_keys]
    options: dict[str, Any] = {
        "username": s.username,
        "known_hosts": None,
        "client_keys": keys,
        "password": s.password or None,
        "agent_path": os.environ.get("SSH_AUTH_SOCK") if s.agent_auth else None,
        "agent_forwarding": s.agent_forwarding and bool(os.environ.get("SSH_AUTH_SOCK")),
        "keepalive_interval": s.keepalive or 0,
        "keepalive_count_max": 3,
        "config": None,
    }
    if s.ciphers:
        options["encryption_algs"] = list(s.ciphers)
    if s.kex:
        options["kex_algs"] = list(s.kex)
    return options


async def connect(s: SshSettings, ui: Ui | None = None) -> asyncssh.SSHClientConnection:
    """Poll until the SSH server at ``s.host:s.port`` accepts us, or raise :class:`BuildError`."""
    import asyncssh

    loop = asyncio.get_running_loop()
    deadline = loop.time() + s.timeout
    tally = _Tally()
    options = _client_options(s)
    tunnel = await connect(s.bastion) if s.bastion is not None else None
    auth_failures = 0
    try:
        while True:
            try:
                if tunnel is not None:
                    return await _via_tunnel(tunnel, s, options, deadline, tally)
                sock = await _first_banner(s, deadline, tally)
                login = max(1.0, min(60.0, deadline - loop.time()))
                return await asyncssh.connect(s.host, s.port, sock=sock, login_timeout=login, **options)
            except asyncssh.PermissionDenied as exc:
                auth_failures += 1
                tally.note(f"authentication failed: {exc.reason}")
                if auth_failures >= s.handshake_attempts:
                    raise BuildError(
                        _timeout_message(s, tally, f"authentication failed {auth_failures} times")
                    ) from exc
                await asyncio.sleep(AUTH_RETRY_DELAY)
            except (asyncssh.Error, OSError, TimeoutError) as exc:
                tally.note(f"handshake failed: {exc or type(exc).__name__}")
                if loop.time() >= deadline:
                    raise BuildError(_timeout_message(s, tally)) from exc
                await asyncio.sleep(PROBE_INTERVAL)
    except BaseException:
        if tunnel is not None:
            tunnel.close()
        raise


def _timeout_message(s: SshSettings, tally: _Tally, why: str = "") -> str:
    seen = ", ".join(f"{what} {n}x" for what, n in tally.answers.most_common())
    head = why or f"Timeout waiting for SSH after {format_go_duration(s.timeout)}"
    via = f" via bastion {s.bastion.host}:{s.bastion.port}" if s.bastion else ""
    return f"{head}: tried {s.host}:{s.port}{via} {tally.attempts} times; answers: {seen or 'none'}; last: {tally.last}"


async def _via_tunnel(
    tunnel: asyncssh.SSHClientConnection, s: SshSettings, options: dict[str, Any], deadline: float, tally: _Tally
) -> asyncssh.SSHClientConnection:
    import asyncssh

    loop = asyncio.get_running_loop()
    while True:
        tally.attempts += 1
        try:
            budget = max(1.0, min(30.0, deadline - loop.time()))
            return await asyncssh.connect(
                s.host, s.port, tunnel=tunnel, login_timeout=budget, connect_timeout=PROBE_TIMEOUT * 2, **options
            )
        except asyncssh.ChannelOpenError as exc:
            tally.note(f"refused by bastion: {exc.reason}")
        except (TimeoutError, asyncssh.ConnectionLost) as exc:
            tally.note(f"timed out: {exc or 'no answer'}")
        if loop.time() >= deadline:
            raise BuildError(_timeout_message(s, tally))
        await asyncio.sleep(PROBE_INTERVAL)


async def _first_banner(s: SshSettings, deadline: float, tally: _Tally) -> socket.socket:
    """Start overlapping probes until one sees the server's banner; return its socket."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[socket.socket | str]] = set()
    next_start = loop.time()
    try:
        while True:
            now = loop.time()
            if now >= deadline:
                raise BuildError(_timeout_message(s, tally))
            if now >= next_start and len(pending) < MAX_PROBES:
                tally.attempts += 1
                pending.add(asyncio.ensure_future(_probe(s, tally.probe_timeout)))
                next_start = now + PROBE_INTERVAL
            wait = max(0.01, min(next_start, deadline) - loop.time())
            if not pending:
                await asyncio.sleep(wait)
                continue
            done, pending = await asyncio.wait(pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                result = task.result()
                if isinstance(result, socket.socket):
                    return result
                tally.note(result)
    finally:
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                leftover = await task
                if isinstance(leftover, socket.socket):
                    leftover.close()


async def _probe(s: SshSettings, timeout: float = PROBE_TIMEOUT) -> socket.socket | str:
    """A connected socket that has shown a banner, or what answered instead."""
    loop = asyncio.get_running_loop()
    target = (s.proxy[0], s.proxy[1]) if s.proxy else (s.host, s.port)
    try:
        infos = await loop.getaddrinfo(*target, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"no such host: {exc}"
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(timeout):
            try:
                await loop.sock_connect(sock, addr)
            except ConnectionRefusedError:
                sock.close()
                return "connection refused"
            if s.proxy:
                await _socks5(loop, sock, s)
            first = await _peek(loop, sock)
    except TimeoutError:
        sock.close()
        return f"timed out: no SSH banner within {timeout:g}s"
    except OSError as exc:
        sock.close()
        return f"error: {exc}"
    except BaseException:
        sock.close()
        raise
    if not first:
        sock.close()
        return "closed before the SSH banner"
    return sock


async def _peek(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())
    try:
        return sock.recv(256, socket.MSG_PEEK)
    except ConnectionResetError:
        return b""


async def _socks5(loop: asyncio.AbstractEventLoop, sock: socket.socket, s: SshSettings) -> None:
    """SOCKS5 CONNECT to ``s.host:s.port`` through the proxy ``sock`` is connected to."""
    assert s.proxy is not None
    _, _, user, password = s.proxy
    methods = b"\x00\x02" if user else b"\x00"
    await loop.sock_sendall(sock, b"\x05" + bytes([len(methods)]) + methods)
    reply = await loop.sock_recv(sock, 2)
    if reply[1:2] == b"\x02":
        u, p = user.encode(), password.encode()
        await loop.sock_sendall(sock, b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        if (await loop.sock_recv(sock, 2))[1:2] != b"\x00":
            raise OSError("SOCKS5 proxy refused the username/password")
    elif reply[1:2] != b"\x00":
        raise OSError("SOCKS5 proxy offers no usable authentication method")
    host = s.host.encode()
    await loop.sock_sendall(sock, b"\x05\x01\x00\x03" + bytes([len(host)]) + host + s.port.to_bytes(2, "big"))
    answer = await loop.sock_recv(sock, 10)
    if len(answer) < 2 or answer[1] != 0:
        raise OSError(f"SOCKS5 proxy could not connect to {s.host}:{s.port} (code {answer[1:2].hex()})")


def read_key_file(path: str) -> str:
    """The text of a private key file (for ``SSHPrivateKey`` in generated data)."""
    return Path(os.path.expanduser(path)).read_text()

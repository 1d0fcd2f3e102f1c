"""The ansible provisioner's SSH proxy: an SSH server on 127.0.0.1 that relays sessions to the guest.

Packer 1.6.6's adapter (``packer-plugin-sdk/adapter``) does the same job with one-time RSA keys only;
Debian 12's OpenSSH refuses those without ``+ssh-rsa`` options. This one (asyncssh) uses one-time
Ed25519 host and user keys (or the user's ``ssh_host_key_file`` / ``ssh_authorized_key_file``) and:

* accepts only ``user`` with the one authorized key; ``pty-req`` is accepted and ignored, as in Packer;
* relays each ``exec`` to :meth:`Communicator.start_process` (``docker exec``, or a channel of the
  SSH communicator's connection), stdin/stdout/stderr as raw bytes, then the exit status;
* runs the ``sftp`` subsystem as ``sftp_command`` in the guest (default ``/usr/lib/sftp-server -e``).
  ``scp`` from OpenSSH 9 speaks SFTP too; a legacy ``scp -t``/``-f`` exec is relayed as any command.

:func:`start_proxy` returns a :class:`Proxy` whose ``close`` stops listening, drops every connection
(also ansible's ControlPersist master) and removes the key file; the provisioner calls it in a
``finally``, so Ctrl-C leaves neither the port nor the key behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from imagesmith.core.plugin import STDERR, Communicator, RemoteProcess
from imagesmith.errors import BuildError
from imagesmith.log import logger
from imagesmith.ui import Ui

DEFAULT_SFTP_COMMAND = "/usr/lib/sftp-server -e"
_PORT_TRIES = 10
#: Every byte goes through this Python process twice: AES-GCM (one C call a packet) first, and no
#: compression (ansible's default ``-C`` would otherwise make the proxy zlib every packet on loopback)
CIPHERS = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr"]
COMPRESSION = ["none"]


@dataclass
class Proxy:
    """A running proxy: its port, the private key file ansible logs in with ("" if the user gave one)."""

    port: int
    key_file: str
    server: Any = None
    connections: set[Any] = field(default_factory=set)

    async def close(self) -> None:
        """Stop listening, drop every connection, remove the key file."""
        if self.server is not None:
            self.server.close()
            for conn in list(self.connections):
                conn.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
        if self.key_file:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.key_file)


@dataclass(frozen=True)
class ProxySettings:
    user: str
    local_port: int = 0
    host_key_file: str = ""
    authorized_key_file: str = ""
    sftp_command: str = ""


async def start_proxy(settings: ProxySettings, comm: Communicator, ui: Ui) -> Proxy:
    """Make the keys, listen on 127.0.0.1 and serve until :meth:`Proxy.close`."""
    ui.message("Setting up proxy adapter for Ansible....")
    host_key = _load_private(settings.host_key_file, "host key") if settings.host_key_file else None
    if settings.authorized_key_file:
        user_key, key_file = _load_public(settings.authorized_key_file), ""
    else:
        generated = asyncssh.generate_private_key("ssh-ed25519")
        user_key, key_file = generated, write_private_key(generated)
    proxy = Proxy(0, key_file)
    try:
        host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        relay = _Relay(comm, ui, settings.sftp_command or DEFAULT_SFTP_COMMAND)
        proxy.server, proxy.port = await _listen(
            lambda: _Server(settings.user, user_key, relay, proxy.connections), host_key, settings.local_port, ui
        )
    except BaseException:
        await proxy.close()
        raise
    logger.debug("ansible proxy: serving on 127.0.0.1:%d", proxy.port)
    return proxy


def write_private_key(key: asyncssh.SSHKey) -> str:
    """Write ``key`` (OpenSSH format, mode 0600) to a new ``ansible-key*`` file in the temp directory."""
    fd, path = tempfile.mkstemp(prefix="ansible-key")
    try:
        os.write(fd, key.export_private_key("openssh"))
    finally:
        os.close(fd)
    return path


def _load_private(path: str, what: str) -> asyncssh.SSHKey:
    try:
        return asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError) as exc:
        raise BuildError(f"error creating host signer: Failed to load private {what}: {exc}") from exc


def _load_public(path: str) -> asyncssh.SSHKey:
    try:
        return asyncssh.read_public_key(path)
    except (OSError, asyncssh.KeyImportError) as exc:
        raise BuildError(f"Failed to parse authorized key: {exc}") from exc


async def _listen(factory: Any, host_key: asyncssh.SSHKey, first_port: int, ui: Ui) -> tuple[Any, int]:
    """Listen on ``first_port`` or one of the next nine (a random port when it is 0), as Packer does."""
    tries = _PORT_TRIES if first_port else 1
    for port in range(first_port, first_port + tries):
        try:
            server = await asyncssh.create_server(
                factory,
                "127.0.0.1",
                port,
                server_host_keys=[host_key],
                encoding=None,
                allow_scp=False,
                agent_forwarding=False,
                compression_algs=COMPRESSION,
                encryption_algs=CIPHERS,
                x11_forwarding=False,
                keepalive_interval=0,
            )
        except OSError as exc:
            ui.say(f"listen tcp 127.0.0.1:{port}: bind: {exc.strerror or exc}")
            continue
        sockets = server.sockets
        return server, int(sockets[0].getsockname()[1])
    raise BuildError("Error setting up SSH proxy connection")


@dataclass(frozen=True)
class _Relay:
    comm: Communicator
    ui: Ui
    sftp_command: str


class _Server(asyncssh.SSHServer):
    """Lets in ``user`` with the one authorized key; every session becomes a :class:`_Session`."""

    def __init__(self, user: str, key: asyncssh.SSHKey, relay: _Relay, connections: set[Any]) -> None:
        self.user, self.key, self.relay, self.connections = user, key, relay, connections
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return bool(username == self.user and key.public_data == self.key.public_data)

    def session_requested(self) -> _Session:
        return _Session(self.relay)


class _Session(asyncssh.SSHServerSession[bytes]):
    """One SSH session: an exec or the sftp subsystem, relayed to one remote process."""

    def __init__(self, relay: _Relay) -> None:
        self.relay = relay
        self.command = ""
        self.chan: Any = None
        self.input: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.task: asyncio.Future[None] | None = None

    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: Any, term_modes: Any) -> bool:
        return True  # accepted and ignored, as in Packer: the command gets no terminal

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return bool(command)

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem != "sftp":
            self.relay.ui.error(f"unsupported subsystem requested: {subsystem}")
            return False
        self.command = self.relay.sftp_command
        return True

    def shell_requested(self) -> bool:
        return False

    def session_started(self) -> None:
        self.task = asyncio.ensure_future(relay_session(self.relay, self.command, self.chan, self.input))

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.input.put_nowait(data)

    def eof_received(self) -> bool:
        self.input.put_nowait(None)
        return True  # half-open: the command's output still flows back

    def connection_lost(self, exc: Exception | None) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


async def relay_session(relay: _Relay, command: str, chan: Any, data: asyncio.Queue[bytes | None]) -> None:
    """Run ``command`` in the guest; copy the channel's input to it and its output back; send the exit status."""
    logger.debug("ansible proxy: exec %s", command)
    try:
        process = await relay.comm.start_process(command)
    except BuildError as exc:
        relay.ui.error(str(exc))
        chan.exit(255)
        return
    feeder = asyncio.ensure_future(_feed(process, data))
    try:
        while (chunk := await process.read()) is not None:
            which, payload = chunk
            if which == STDERR:
                chan.write_stderr(payload)
            else:
                chan.write(payload)
        status = await process.wait()
        chan.exit(status if 0 <= status <= 255 else 255)
    except (OSError, asyncssh.Error) as exc:  # the client went away: nothing to report to
        logger.debug("ansible proxy: session of %r ended early: %s", command, exc)
    finally:
        feeder.cancel()
        await process.close()
        await asyncio.gather(feeder, return_exceptions=True)


async def _feed(process: RemoteProcess, data: asyncio.Queue[bytes | None]) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while (chunk := await data.get()) is not None:
            await process.write(chunk)
        await process.write_eof()

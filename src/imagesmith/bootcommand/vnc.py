"""A minimal RFB (VNC) client: enough to type keys into QEMU, as Packer's VNC driver does.

Supports protocol versions 3.3 to 3.8 with security type None, or VNC authentication (DES
challenge-response, as VMware's VNC server asks) when a password is given; the handshake is
version → security → ClientInit (shared) → ServerInit, after which only KeyEvent messages
(type 4) are sent. Whatever the server sends afterwards is read and discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from imagesmith.errors import BuildError

_SEC_NONE = 1
_SEC_VNC_AUTH = 2


class VncError(BuildError):
    """The VNC server refused us or the connection broke."""


class VncClient:
    """An RFB session that can send key events."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str) -> None:
        self._reader = reader
        self._writer = writer
        self.name = name
        self._drain_task = asyncio.ensure_future(self._discard())

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float = 10.0, password: str = "") -> VncClient:
        """Connect and finish the handshake (with ``password`` if set), or raise :class:`VncError`."""
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port)
                try:
                    name = await _handshake(reader, writer, password)
                except BaseException:
                    writer.close()
                    raise
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise VncError(f"Error connecting to VNC at {host}:{port}: {exc or type(exc).__name__}") from exc
        return cls(reader, writer, name)

    async def key_event(self, keysym: int, down: bool) -> None:
        """Send one KeyEvent."""
        self._writer.write(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))
        try:
            await self._writer.drain()
        except ConnectionError as exc:
            raise VncError(f"VNC connection lost: {exc}") from exc

    async def _discard(self) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while await self._reader.read(65536):
                pass

    async def close(self) -> None:
        """Close the session."""
        self._drain_task.cancel()
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


async def _handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, password: str = "") -> str:
    banner = await reader.readexactly(12)
    if not banner.startswith(b"RFB "):
        raise VncError(f"not a VNC server (banner {banner!r})")
    major, minor = int(banner[4:7]), int(banner[8:11])
    minor = 8 if (major, minor) >= (3, 8) else (7 if (major, minor) == (3, 7) else 3)
    writer.write(b"RFB 003.%03d\n" % minor)
    if minor == 3:
        (sec,) = struct.unpack(">I", await reader.readexactly(4))
        if sec == 0:
            raise VncError(f"VNC server refused the connection: {await _reason(reader)}")
        if sec == _SEC_VNC_AUTH and password:
            await _authenticate(reader, writer, password)
        elif sec != _SEC_NONE:
            raise VncError(f"VNC security type {sec} is not supported (only None, or VNC auth with a password)")
    else:
        (count,) = struct.unpack(">B", await reader.readexactly(1))
        if count == 0:
            raise VncError(f"VNC server refused the connection: {await _reason(reader)}")
        types = await reader.readexactly(count)
        if password and _SEC_VNC_AUTH in types:
            writer.write(bytes([_SEC_VNC_AUTH]))
            await _authenticate(reader, writer, password)
        elif _SEC_NONE not in types:
            raise VncError(f"VNC server offers security types {list(types)}; only None (1) is supported")
        else:
            writer.write(bytes([_SEC_NONE]))
        if minor == 8 and not (password and _SEC_VNC_AUTH in types):
            (result,) = struct.unpack(">I", await reader.readexactly(4))
            if result != 0:
                raise VncError(f"VNC authentication failed: {await _reason(reader)}")
    writer.write(b"\x01")  # ClientInit: shared
    await writer.drain()
    header = await reader.readexactly(24)  # width, height, pixel format (16), name length
    (name_len,) = struct.unpack(">I", header[20:24])
    return (await reader.readexactly(name_len)).decode("latin-1")


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """The 16-byte answer to VNC authentication's ``challenge``: DES-ECB with the password (at
    most 8 bytes, zero-padded) as key, each key byte's bits reversed, as RFB specifies."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode("latin-1", "replace")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # three equal keys: single DES
    return encryptor.update(challenge) + encryptor.finalize()


async def _authenticate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, password: str) -> None:
    """Answer the server's challenge; every protocol version then sends a SecurityResult."""
    challenge = await reader.readexactly(16)
    writer.write(vnc_auth_response(password, challenge))
    await writer.drain()
    (result,) = struct.unpack(">I", await reader.readexactly(4))
    if result != 0:
        raise VncError("VNC authentication failed (wrong password?)")


async def _reason(reader: asyncio.StreamReader) -> str:
    (length,) = struct.unpack(">I", await reader.readexactly(4))
    return (await reader.readexactly(length)).decode("utf-8", "replace")

"""VNC authentication in the boot command's RFB client (VMware's VNC server asks for a password).

The DES answer is checked against OpenSSL's (``openssl enc -des-ecb``, bit-reversed key bytes, as
RFB specifies); the handshake against a small RFB 3.8 server on 127.0.0.1 that checks it."""

from __future__ import annotations

import asyncio
import struct

import pytest

from imagesmith.bootcommand.vnc import VncClient, VncError, vnc_auth_response

CHALLENGE = b"0123456789abcdef"


def test_vnc_auth_response_matches_openssl_des() -> None:
    assert vnc_auth_response("pass1234", CHALLENGE).hex() == "e85bfb98b85fbbaab5ca0fe9ea35ef33"
    # at most 8 characters count; shorter ones are zero-padded
    assert vnc_auth_response("pass1234-and-more", CHALLENGE) == vnc_auth_response("pass1234", CHALLENGE)
    assert vnc_auth_response("pw", CHALLENGE) == vnc_auth_response("pw\0\0\0\0\0\0", CHALLENGE)
    assert vnc_auth_response("pw", CHALLENGE) != vnc_auth_response("pw1", CHALLENGE)


async def _serve(password: str) -> tuple[asyncio.Server, int, list[bool]]:
    results: list[bool] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await reader.readexactly(12)
        writer.write(bytes([1, 2]))  # one security type: VNC authentication
        assert await reader.readexactly(1) == b"\x02"
        writer.write(CHALLENGE)
        ok = await reader.readexactly(16) == vnc_auth_response(password, CHALLENGE)
        results.append(ok)
        writer.write(struct.pack(">I", 0 if ok else 1))
        if ok:
            await reader.readexactly(1)  # ClientInit
            writer.write(struct.pack(">HH16sI", 640, 480, bytes(16), 3) + b"vmw")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], results


def test_vnc_client_authenticates_with_the_password() -> None:
    async def main() -> None:
        server, port, results = await _serve("s3cret")
        async with server:
            client = await VncClient.connect("127.0.0.1", port, password="s3cret")
            assert client.name == "vmw" and results == [True]
            await client.close()
            with pytest.raises(VncError, match="authentication failed"):
                await VncClient.connect("127.0.0.1", port, password="wrong")
            with pytest.raises(VncError, match="only None"):
                await VncClient.connect("127.0.0.1", port)

    asyncio.run(main())

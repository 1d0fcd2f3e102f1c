"""Waiting for a slow SSH server: each attempt that timed out before the banner makes the next one
wait longer, so a server starved of CPU (a TCG guest on a busy host) is still reached."""

from __future__ import annotations

import asyncio

from imagesmith.communicator.ssh_connect import (
    MAX_PROBE_TIMEOUT,
    PROBE_TIMEOUT,
    SshSettings,
    _first_banner,
    _Tally,
)


def test_probe_timeout_grows_with_timeouts_and_is_capped() -> None:
    tally = _Tally()
    assert tally.probe_timeout == PROBE_TIMEOUT
    tally.note("timed out: no SSH banner within 1.5s")
    tally.note("connection refused")
    assert tally.probe_timeout == PROBE_TIMEOUT + 0.5
    for _ in range(100):
        tally.note("timed out: no SSH banner within 2s")
    assert tally.probe_timeout == MAX_PROBE_TIMEOUT


def test_a_banner_slower_than_the_first_probes_is_still_seen() -> None:
    """The server answers each connection's banner only after 4 s (every first probe times out)."""

    async def scenario() -> tuple[bytes, int]:
        async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await asyncio.sleep(4.0)
                writer.write(b"SSH-2.0-slow\r\n")
                await writer.drain()
                await reader.read(1)
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(slow, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        tally = _Tally()
        try:
            loop = asyncio.get_running_loop()
            sock = await _first_banner(SshSettings("127.0.0.1", port, "u"), loop.time() + 120, tally)
            data = sock.recv(64)
            sock.close()
        finally:
            server.close()
        return data, tally.answers["timed out"]

    banner, timeouts = asyncio.run(scenario())
    assert banner.startswith(b"SSH-2.0-slow")
    assert timeouts > 0  # the first probes gave up: only the longer ones saw it

"""The boot HTTP server: serves its directory and http_content, and nothing else (attacked with raw requests)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagesmith.steps.http_server import HttpServer, ServeHttp
from imagesmith.ui import Ui


class RecordingUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))


async def _raw(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def _get(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "http"
    (root / "sub").mkdir(parents=True)
    (root / "ks.cfg").write_text("install\n")
    (root / "sub" / "a b.txt").write_text("spaced\n")
    (tmp_path / "secret.txt").write_text("SECRET\n")
    (root / "escape").symlink_to(tmp_path)
    (root / "escape-file").symlink_to(tmp_path / "secret.txt")
    (root / "inside").symlink_to(root / "sub")
    return root


ATTACKS = [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/sub/..%2f..%2fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt", "/escape/secret.txt", "/escape-file", "//etc/passwd",
    "/..%5csecret.txt", "/ks.cfg%00.png", "http://x/../secret.txt", "/%c0%ae%c0%ae/secret.txt",
    "../secret.txt", "/etc/passwd", "/%2fetc%2fpasswd",
]  # fmt: skip


def test_serves_files_content_and_refuses_escapes(tree: Path) -> None:
    ui = RecordingUi()

    async def main() -> None:
        server = HttpServer(str(tree), {"/preseed.cfg": "d-i x", "meta-data": ""}, ui)
        port = await server.start("127.0.0.1", 18100, 18199)
        try:
            assert await _raw(port, _get("/ks.cfg")) == (200, b"install\n")
            assert await _raw(port, _get("/sub/a%20b.txt")) == (200, b"spaced\n")
            assert await _raw(port, _get("/inside/a%20b.txt")) == (200, b"spaced\n")
            assert await _raw(port, _get("/preseed.cfg")) == (200, b"d-i x")
            assert await _raw(port, _get("/meta-data")) == (200, b"")
            assert (await _raw(port, _get("/sub/")))[0] == 200
            assert await _raw(port, b"HEAD /ks.cfg HTTP/1.1\r\n\r\n") == (200, b"")
            assert (await _raw(port, b"POST /ks.cfg HTTP/1.1\r\n\r\n"))[0] == 405
            for target in ATTACKS:
                status, body = await _raw(port, _get(target))
                assert status == 404, target
                assert b"SECRET" not in body and b"root:" not in body, target
        finally:
            await server.stop()

    asyncio.run(main())
    logged = [m for kind, m in ui.lines if kind == "message"]
    assert any(m.startswith("HTTP 127.0.0.1 GET /ks.cfg 200 8") for m in logged)
    assert len(logged) == 8 + len(ATTACKS)


def test_content_only_without_directory() -> None:
    async def main() -> None:
        server = HttpServer(None, {"user-data": "#cloud-config"}, RecordingUi())
        port = await server.start("127.0.0.1", 18200, 18299)
        try:
            assert await _raw(port, _get("/user-data")) == (200, b"#cloud-config")
            assert (await _raw(port, _get("/")))[0] == 404
        finally:
            await server.stop()

    asyncio.run(main())


@dataclass
class _State:
    http_port: int = 0


def test_step_picks_next_free_port_binds_loopback_and_cleans_up(tree: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 18300))
    busy.listen()
    ui = RecordingUi()
    state = _State()

    async def main() -> None:
        step: ServeHttp[_State] = ServeHttp(ui, str(tree), {}, port_min=18300, port_max=18310)
        await step.run(state)
        assert state.http_port == 18301
        assert step.server._server is not None
        addrs = [s.getsockname()[0] for s in step.server._server.sockets]
        assert addrs == ["127.0.0.1"]
        await step.cleanup(state)

    try:
        asyncio.run(main())
    finally:
        busy.close()
    assert ("say", "Starting HTTP server on port 18301") in ui.lines
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", 18301)) != 0  # no longer listening


def test_no_free_port_is_an_error(tree: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 18400))
    busy.listen()
    try:
        with pytest.raises(Exception, match="no free port in 18400-18400"):
            asyncio.run(HttpServer(str(tree), {}, RecordingUi()).start("127.0.0.1", 18400, 18400))
    finally:
        busy.close()

"""The HTTP server a guest installer fetches its files from (``http_directory``, ``http_content``).

Packer serves with Go's ``http.FileServer`` on ``http_bind_address`` (default ``0.0.0.0``).
imagesmith binds ``127.0.0.1`` by default instead: with QEMU's user-mode network the guest
reaches the host's loopback as ``10.0.2.2``, so nothing needs to listen on the LAN. Set
``http_bind_address`` to ``0.0.0.0`` for bridged guests.

The server answers GET and HEAD only, never serves anything outside ``http_directory``
(``..`` segments, percent-encoded tricks, absolute paths and symlinks pointing out all get
404), serves ``http_content`` entries (path → text) before files, and logs every request to
the Ui.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import mimetypes
import os
import posixpath
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from imagesmith.core.steps import Step, fail
from imagesmith.ui import Ui

DEFAULT_BIND = "127.0.0.1"
_CHUNK = 1 << 20
_MAX_HEADER = 16384


class HasHttpPort(Protocol):
    http_port: int


S = TypeVar("S", bound=HasHttpPort)


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    body: bytes = b""
    file: Path | None = None
    size: int = 0
    content_type: str = "text/plain; charset=utf-8"


class HttpServer:
    """Serve ``directory`` and ``content``; :meth:`start` binds, :meth:`stop` closes everything."""

    def __init__(self, directory: str | None, content: Mapping[str, str], ui: Ui) -> None:
        self.root = Path(directory).resolve() if directory else None
        self.content = {("/" + k.lstrip("/")): v.encode() for k, v in content.items()}
        self.ui = ui
        self.port = 0
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self, bind: str, port_min: int, port_max: int) -> int:
        """Listen on the first free port in ``[port_min, port_max]``; return it."""
        last: OSError | None = None
        for port in range(port_min, max(port_min, port_max) + 1):
            try:
                self._server = await asyncio.start_server(self._handle, bind, port, reuse_address=True)
            except OSError as exc:
                last = exc
                continue
            self.port = port
            return port
        raise fail(f"Error finding port: no free port in {port_min}-{port_max} on {bind} ({last})")

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._serve_one(reader, writer, peer[0] if peer else "?")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if len(head) > _MAX_HEADER:
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        method, target = (parts[0], parts[1]) if len(parts) == 3 else ("?", "?")
        if method not in ("GET", "HEAD"):
            resp = Response(405, "Method Not Allowed", b"method not allowed\n")
        else:
            resp = self.resolve(target)
        await _send(writer, resp, with_body=method != "HEAD")
        self.ui.message(f"HTTP {peer} {method} {target} {resp.status} {resp.size or len(resp.body)}")

    def resolve(self, target: str) -> Response:
        """What to answer for a request target; never a file outside the served directory."""
        raw_path = urllib.parse.urlsplit(target).path
        try:
            path = urllib.parse.unquote(raw_path, errors="strict")
        except UnicodeDecodeError:
            return _not_found()
        if "\0" in path or "\\" in path or not path.startswith("/"):
            return _not_found()
        clean = posixpath.normpath(path)
        if ".." in path.split("/") or clean.startswith("//"):
            return _not_found()
        if clean in self.content:
            body = self.content[clean]
            return Response(200, "OK", body, content_type=_type_of(clean))
        if self.root is None:
            return _not_found()
        return self._file(clean)

    def _file(self, clean: str) -> Response:
        assert self.root is not None
        candidate = (self.root / clean.lstrip("/")).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return _not_found()  # a symlink pointing outside
        if candidate.is_dir():
            index = candidate / "index.html"
            if index.is_file():
                candidate = index
            else:
                return self._listing(candidate)
        if not candidate.is_file() or not os.access(candidate, os.R_OK):
            return _not_found()
        return Response(200, "OK", file=candidate, size=candidate.stat().st_size, content_type=_type_of(clean))

    def _listing(self, directory: Path) -> Response:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in directory.iterdir())
        rows = "".join(f'<a href="{urllib.parse.quote(n)}">{html.escape(n)}</a>\n' for n in names)
        return Response(200, "OK", f"<pre>\n{rows}</pre>\n".encode(), content_type="text/html; charset=utf-8")


def _not_found() -> Response:
    return Response(404, "Not Found", b"404 page not found\n")


def _type_of(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


async def _send(writer: asyncio.StreamWriter, resp: Response, *, with_body: bool) -> None:
    length = resp.size if resp.file is not None else len(resp.body)
    head = (
        f"HTTP/1.1 {resp.status} {resp.reason}\r\nContent-Type: {resp.content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode())
    if with_body:
        if resp.file is None:
            writer.write(resp.body)
        else:
            with resp.file.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    writer.write(chunk)
                    await writer.drain()
    await writer.drain()


class ServeHttp(Step[S]):
    """StepHTTPServer: serve files while the guest boots; sets ``state.http_port``."""

    def __init__(
        self,
        ui: Ui,
        directory: str | None,
        content: Mapping[str, str],
        *,
        port_min: int = 8000,
        port_max: int = 9000,
        bind_address: str = "",
    ) -> None:
        self.ui = ui
        self.server = HttpServer(directory or None, content, ui)
        self.port_min = port_min
        self.port_max = port_max
        self.bind = bind_address or DEFAULT_BIND

    @property
    def name(self) -> str:
        return "StepHTTPServer"

    async def run(self, state: S) -> None:
        port = await self.server.start(self.bind, self.port_min, self.port_max)
        self.ui.say(f"Starting HTTP server on port {port}")
        state.http_port = port

    async def cleanup(self, state: S) -> None:
        await self.server.stop()

"""A byte-level proxy in front of the Docker daemon's socket that refuses one kind of request.

Point ``DOCKER_HOST`` at :attr:`DockerProxy.path`: everything is forwarded to the real daemon until
the client sends ``refuse`` (say ``b"/commit"``, in the request line); then that connection is
closed without an answer, as if the daemon had gone away, or, with ``error``, answered with that
daemon error (HTTP 500 and the Engine API's ``{"message": ...}`` body). Works for the docker CLI and
for any Engine API client alike.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from pathlib import Path
from types import TracebackType

DAEMON = "/var/run/docker.sock"


class DockerProxy:
    def __init__(self, path: Path, refuse: bytes, daemon: str = DAEMON, error: str = "") -> None:
        self.path = path
        self.refuse = refuse
        self.error = error
        self.daemon = daemon
        self.refused = 0
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.forward(self.request)

        self.server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DockerProxy:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def forward(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.daemon)
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        try:
            while data := client.recv(65536):
                if self.refuse in data:
                    self.refused += 1
                    if self.error:
                        client.sendall(_error_response(self.error))
                    return
                upstream.sendall(data)
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
            back.join()
        except OSError:
            pass
        finally:
            for sock in (upstream, client):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)


def _error_response(message: str) -> bytes:
    body = json.dumps({"message": message}).encode()
    head = f"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body

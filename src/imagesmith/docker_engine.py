"""The one way imagesmith talks to the Docker daemon: the Engine API through aiodocker.

The docker builder's driver, the docker communicator and the docker post-processors call the daemon
through :func:`connect` and :func:`call`; nothing else imports aiodocker (imported lazily, so
``validate`` and non-docker builds never load aiohttp). The daemon is found as the docker CLI finds
it: ``DOCKER_HOST`` (``unix://`` or ``tcp://``; ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH`` for TLS),
else the current docker context, else ``/var/run/docker.sock``.

Every failed API call raises :class:`EngineError`: the operation, the HTTP status and the daemon's
message, as the CLI's stderr showed them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import os
import sys
import threading
import types
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imagesmith.errors import BuildError
from imagesmith.log import logger

if TYPE_CHECKING:
    import aiodocker
    import aiohttp

_api_versions: dict[str | None, str] = {}  # daemon address → the API version negotiated with it
_CHUNK = 1 << 20
_tls_defaults_empty = False  # aiohttp's default TLS contexts were made without the system's CAs


class EngineError(BuildError):
    """A Docker Engine API call failed: ``status`` is the HTTP status, 900 when the daemon could not be
    reached, None when the connection failed otherwise, 0 for an error the daemon reported in a stream."""

    def __init__(self, operation: str, status: int | None, message: str) -> None:
        self.operation = operation
        self.status = status
        self.daemon_message = message.strip()
        if status == 900:  # aiodocker's code for "cannot connect"
            where = " (could not reach the Docker daemon)"
        elif status is None:
            where = " (the connection to the Docker daemon failed)"
        else:
            where = f" (HTTP {status})" if status else ""
        super().__init__(f"{operation} failed{where}: {self.daemon_message}")


@dataclass(frozen=True)
class Request:
    """One Engine API request, as the pure ``make_*`` functions build it (tests compare these)."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    body: Mapping[str, Any] | None = None


def daemon_url() -> str | None:
    """The daemon's address as the CLI picks it: ``DOCKER_HOST`` first (it overrides the context)."""
    return os.environ.get("DOCKER_HOST") or None


def import_client() -> None:
    """Import aiodocker (and aiohttp), at most once per process.

    aiohttp makes two default TLS contexts when it is imported, and each reads the system's CA
    bundle: 0.1-0.3 s, a third of its import, wasted on a daemon behind a unix socket. When no
    other thread could make a TLS context at the same moment, the import skips loading the CAs;
    :func:`_restore_tls_defaults` makes the contexts properly before a TCP connection needs them.
    """
    global _tls_defaults_empty
    if "aiodocker" in sys.modules or threading.active_count() > 1:
        import aiodocker

        return
    import ssl

    load_cas = ssl.SSLContext.set_default_verify_paths
    ssl.SSLContext.set_default_verify_paths = lambda self: None  # type: ignore[method-assign]
    stand_in = _metadata_stand_in() if "importlib.metadata" not in sys.modules else None
    try:
        import aiodocker  # noqa: F401
        import aiohttp.connector  # noqa: F401

        _tls_defaults_empty = True
    finally:
        ssl.SSLContext.set_default_verify_paths = load_cas  # type: ignore[method-assign]
        if stand_in is not None and sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]


def _metadata_stand_in() -> types.ModuleType:
    """A stand-in for ``importlib.metadata`` while aiodocker is imported.

    aiodocker's ``__init__`` imports ``importlib.metadata`` (20-50 ms: email, zipfile, csv, ...) only
    to set its ``__version__``, which it never reads. The stand-in answers ``version()`` from the
    ``*.dist-info`` directory names on ``sys.path``; any other name makes it step aside for the
    real module. :func:`import_client` removes it afterwards.
    """
    module = types.ModuleType("importlib.metadata")

    class PackageNotFoundError(ModuleNotFoundError):
        pass

    def version(name: str) -> str:
        wanted = name.replace("-", "_").lower() + "-"
        for entry in sys.path:
            with contextlib.suppress(OSError):
                for found in os.listdir(entry or "."):
                    if found.lower().startswith(wanted) and found.endswith(".dist-info"):
                        return found[len(wanted) : -len(".dist-info")]
        raise PackageNotFoundError(name)

    def real(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system asks for __path__ and the like
            raise AttributeError(attribute)
        del sys.modules["importlib.metadata"]
        return getattr(importlib.import_module("importlib.metadata"), attribute)

    module.PackageNotFoundError = PackageNotFoundError  # type: ignore[attr-defined]
    module.version = version  # type: ignore[attr-defined]
    module.__getattr__ = real  # type: ignore[method-assign]
    sys.modules["importlib.metadata"] = module
    return module


def _restore_tls_defaults() -> None:
    """Give aiohttp the default TLS contexts it would have made at import (see :func:`import_client`)."""
    global _tls_defaults_empty
    if _tls_defaults_empty:
        from aiohttp import connector  # pinned: these module globals are what it reads per connection

        connector._SSL_CONTEXT_VERIFIED = connector._make_ssl_context(True)
        connector._SSL_CONTEXT_UNVERIFIED = connector._make_ssl_context(False)
        _tls_defaults_empty = False


@contextlib.asynccontextmanager
async def connect() -> AsyncIterator[aiodocker.Docker]:
    """A client for one operation; its connections are closed on exit, also when cancelled."""
    import_client()
    import aiodocker

    url = daemon_url()
    try:
        docker = aiodocker.Docker(url=url, api_version=_api_versions.get(url, "auto"))
    except (ValueError, OSError, aiodocker.DockerError) as exc:
        where = f"DOCKER_HOST={url}" if url else "the default docker context or socket"
        raise EngineError("connecting to the Docker daemon", 0, f"{where}: {exc}") from None
    if not docker.docker_host.startswith("unix:"):
        _restore_tls_defaults()
    try:
        yield docker
        _api_versions[url] = docker.api_version
    finally:
        await asyncio.shield(docker.close())


@contextlib.asynccontextmanager
async def call(operation: str) -> AsyncIterator[None]:
    """Turn aiodocker and aiohttp failures inside the block into :class:`EngineError`."""
    import aiodocker
    import aiohttp

    logger.debug("+ docker API: %s", operation)
    try:
        yield
    except aiodocker.DockerError as exc:
        raise EngineError(operation, exc.status, str(exc.message)) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise EngineError(operation, None, str(exc) or type(exc).__name__) from None
    except ValueError as exc:  # an answer that is not the JSON the API documents
        raise EngineError(operation, 0, f"unexpected answer from the daemon: {exc}") from None


@contextlib.asynccontextmanager
async def send(
    docker: aiodocker.Docker,
    request: Request,
    *,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """Send ``request`` (for endpoints aiodocker has no method for); the response is released on exit.

    Uses aiodocker's request helper: its URL building, version prefix and error decoding.
    """
    body = json.dumps(request.body).encode() if request.body is not None else data
    hdrs = {"Content-Type": "application/json" if data is None else "application/x-tar"}
    hdrs.update(headers or {})
    async with docker._query(  # aiodocker is pinned; its public API lacks these endpoints
        request.path, request.method, params=dict(request.params or {}), data=body, headers=hdrs, timeout=None
    ) as response:
        yield response


async def head(docker: aiodocker.Docker, request: Request) -> tuple[int, Mapping[str, str]]:
    """Send a HEAD ``request``: its status and headers (aiodocker would try to decode an error body,
    which a HEAD answer does not have)."""
    await docker._check_version()  # private, as in send()
    url = docker._canonicalize_url(request.path)
    async with docker.session.request("HEAD", url, params=dict(request.params or {})) as response:
        return response.status, dict(response.headers)


async def copy_body(response: aiohttp.ClientResponse, sink: Callable[[bytes], Any]) -> None:
    """Hand the response body to ``sink`` in chunks (awaiting it when it returns an awaitable)."""
    async for chunk in response.content.iter_chunked(_CHUNK):
        result = sink(chunk)
        if inspect.isawaitable(result):
            await result


async def read_messages(response: aiohttp.ClientResponse, on_message: Callable[[dict[str, Any]], None]) -> None:
    """Read a JSON-lines progress stream (pull, push, import); an ``error`` message raises."""
    import aiodocker

    async for raw in response.content:
        line = raw.strip()
        if not line:
            continue
        message = json.loads(line)
        if "error" in message or "errorDetail" in message:
            detail = message.get("errorDetail") or {}
            raise aiodocker.DockerError(0, detail.get("message") or message.get("error") or "unknown error")
        on_message(message)


def progress_line(message: Mapping[str, Any]) -> str:
    """The line the CLI prints for a pull/push progress message ("" for progress bar updates)."""
    if message.get("progressDetail") or "status" not in message:
        return ""
    ident = message.get("id")
    return f"{ident}: {message['status']}" if ident else str(message["status"])

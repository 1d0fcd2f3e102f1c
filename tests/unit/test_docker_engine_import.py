"""How docker_engine imports aiohttp: without reading the CA bundle for a unix-socket daemon, and with
aiohttp's default TLS contexts made properly again before any TCP daemon connection.

Each case runs in a fresh interpreter: the import happens once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PRELUDE = """
import asyncio, os, ssl, threading
from imagesmith import docker_engine as de

def cas(ctx):
    return ctx.cert_store_stats()["x509_ca"]

system_cas = cas(ssl.create_default_context())
assert system_cas > 0, "the system CA bundle (ca-certificates) is needed to tell the cases apart"
"""


def run_python(code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_import_skips_the_ca_bundle_and_leaves_ssl_as_it_was() -> None:
    run_python("""
        de.import_client()
        from aiohttp import connector
        assert de._tls_defaults_empty
        assert cas(connector._SSL_CONTEXT_VERIFIED) == 0
        assert cas(ssl.create_default_context()) == system_cas  # ssl itself is untouched
    """)


def test_a_tcp_daemon_gets_the_default_tls_contexts_back() -> None:
    run_python("""
        async def main():
            async with de.connect() as docker:  # builds the client; no request is sent
                assert not docker.docker_host.startswith("unix:")
        os.environ["DOCKER_HOST"] = "tcp://127.0.0.1:9"
        asyncio.run(main())
        from aiohttp import connector
        assert not de._tls_defaults_empty
        assert cas(connector._SSL_CONTEXT_VERIFIED) == system_cas
        assert connector._SSL_CONTEXT_UNVERIFIED.verify_mode == ssl.CERT_NONE
    """)


def test_with_another_thread_running_the_import_is_left_alone() -> None:
    run_python("""
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        try:
            de.import_client()
        finally:
            stop.set()
            other.join()
        from aiohttp import connector
        assert not de._tls_defaults_empty
        assert cas(connector._SSL_CONTEXT_VERIFIED) == system_cas
    """)


def test_the_import_leaves_importlib_metadata_out_and_still_knows_aiodockers_version() -> None:
    run_python("""
        import sys
        de.import_client()
        import aiodocker
        assert "importlib.metadata" not in sys.modules, "aiodocker's import pulled in importlib.metadata"
        import importlib.metadata
        assert aiodocker.__version__ == importlib.metadata.version("aiodocker") != "0.0.0+unknown"
        assert importlib.metadata.entry_points(group="console_scripts") is not None  # the real module
    """)

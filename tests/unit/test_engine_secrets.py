"""consul_key / vault / aws_secretsmanager against small HTTP servers on 127.0.0.1 that speak
the Consul KV and Vault KV v1/v2 APIs (the real services cannot run here)."""

from __future__ import annotations

import base64
import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from imagesmith.errors import RenderError
from imagesmith.template.context import RenderContext
from imagesmith.template.engine import render, render_once
from imagesmith.template.engine.functions import FuncError
from imagesmith.template.secrets_backends import pick_secret_value

CONSUL_KV = {"app/db/password": "s3cret", "app/empty": ""}
VAULT = {
    "secret/legacy": {"data": {"user": "v1-user"}},
    "secret/data/modern": {"data": {"data": {"user": "v2-user"}, "metadata": {"version": 3}}},
}
TOKEN = "test-token"


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append((self.path, dict(self.headers)))
        if self.path.startswith("/v1/kv/"):
            if self.headers.get("X-Consul-Token") != TOKEN:
                self._send(403, {"error": "ACL not found"})
                return
            key = self.path[len("/v1/kv/") :]
            if key not in CONSUL_KV:
                self._send(404, None)
                return
            value = base64.b64encode(CONSUL_KV[key].encode()).decode()
            self._send(200, [{"Key": key, "Value": value, "Flags": 0}])
            return
        if self.headers.get("X-Vault-Token") != TOKEN:
            self._send(403, {"errors": ["permission denied"]})
            return
        path = self.path[len("/v1/") :]
        if path not in VAULT:
            self._send(404, {"errors": []})
            return
        self._send(200, {**VAULT[path], "warnings": None})


@pytest.fixture
def fake_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


VARS = RenderContext(enable_env=True, in_variables=True, user_vars={})


def test_consul_key_fake_server(fake_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUL_HTTP_ADDR", fake_server)
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", TOKEN)
    assert render('{{ consul_key "app/db/password" }}', VARS) == "s3cret"
    with pytest.raises(RenderError, match="key does not exist at the given path: app/nope"):
        render('{{ consul_key "app/nope" }}', VARS)
    with pytest.raises(RenderError, match="value is empty at path app/empty"):
        render('{{ consul_key "app/empty" }}', VARS)
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "wrong")
    with pytest.raises(RenderError, match="HTTP 403"):
        render('{{ consul_key "app/db/password" }}', VARS)


def test_consul_key_unreachable_names_the_env_var_fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSUL_HTTP_ADDR", raising=False)
    monkeypatch.setattr("imagesmith.template.secrets_backends.TIMEOUT_SECONDS", 2.0)
    # Nothing listens on the default 127.0.0.1:8500 here.
    with pytest.raises(RenderError, match="CONSUL_HTTP_ADDR is not set"):
        render('{{ consul_key "k" }}', VARS)


def test_vault_kv_v1_and_v2_fake_server(fake_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://" + fake_server)
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    assert render('{{ vault "secret/legacy" "user" }}', VARS) == "v1-user"
    assert render('{{ vault "/secret/data/modern" "user" }}', VARS) == "v2-user"
    with pytest.raises(RenderError, match="Vault Secret does not exist at the given path"):
        render('{{ vault "secret/missing" "user" }}', VARS)
    with pytest.raises(RenderError, match="no key 'nope'"):
        render('{{ vault "secret/legacy" "nope" }}', VARS)
    path, headers = _Handler.seen[-1]
    assert path == "/v1/secret/legacy"
    assert headers.get("X-Vault-Token") == TOKEN


def test_vault_errors_name_missing_settings_fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    with pytest.raises(RenderError, match="Must set VAULT_TOKEN env var"):
        render_once('{{ vault "secret/x" "k" }}', VARS)
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    # Nothing listens on Vault's default https://127.0.0.1:8200 here.
    with pytest.raises(RenderError, match="VAULT_ADDR is not set"):
        render_once('{{ vault "secret/x" "k" }}', VARS)


def test_aws_secretsmanager_without_boto3_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def without_boto3(name: str, package: str | None = None) -> object:
        if name == "boto3":
            raise ModuleNotFoundError("No module named 'boto3'", name="boto3")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", without_boto3)
    with pytest.raises(RenderError, match="needs the Python package boto3"):
        render('{{ aws_secretsmanager "prod/db" }}', VARS)


@pytest.mark.parametrize(
    ("secret", "key", "expected"),
    [
        ("plain", "", "plain"),
        ('{"only": "one"}', "", "one"),
        ('{"a": "1", "b": "2"}', "b", "2"),
    ],
)
def test_aws_secret_value_rules(secret: str, key: str, expected: str) -> None:
    assert pick_secret_value("n", secret, key) == expected


def test_aws_secret_value_errors() -> None:
    with pytest.raises(FuncError, match="give the key"):
        pick_secret_value("n", '{"a": "1", "b": "2"}', "")
    with pytest.raises(FuncError, match="No secret found for key"):
        pick_secret_value("n", '{"a": "1"}', "zz")

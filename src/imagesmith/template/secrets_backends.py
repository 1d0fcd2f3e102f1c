"""Secret stores the ``consul_key``, ``vault`` and ``aws_secretsmanager`` functions read.

Configured from the environment as Packer's clients are: Consul through ``CONSUL_HTTP_ADDR``
(default ``127.0.0.1:8500``), ``CONSUL_HTTP_TOKEN``, ``CONSUL_HTTP_SSL``; Vault through
``VAULT_ADDR`` (default ``https://127.0.0.1:8200``), ``VAULT_TOKEN`` (required), ``VAULT_NAMESPACE``;
AWS through boto3's standard chain (only if boto3 is installed). Failures raise
:class:`FuncError` with a message that says what to set.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
from typing import Any

from imagesmith.template.engine.functions import FuncError

TIMEOUT_SECONDS = 10.0


def _get_json(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    """GET ``url``; returns (status, decoded JSON or None). 404 is a status, not an exception."""
    import urllib.error  # late: http.client and email cost ~15 ms at startup
    import urllib.request

    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # http(s) only
            body = response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return 404, None
        detail = exc.read().decode("utf-8", "replace").strip()
        raise FuncError(f"HTTP {exc.code} from {_without_query(url)}: {detail[:200]}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FuncError(f"cannot reach {_without_query(url)}: {reason}") from None
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        raise FuncError(f"{_without_query(url)} did not answer with JSON") from None


def _quote_path(path: str) -> str:
    import urllib.parse

    return urllib.parse.quote(path.lstrip("/"))


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def _base_url(address: str, tls: bool) -> str:
    if "://" in address:
        return address.rstrip("/")
    return ("https://" if tls else "http://") + address.rstrip("/")


def consul_key(key: str) -> str:
    """Value of ``key`` in Consul's KV store (``GET /v1/kv/KEY``)."""
    address = os.environ.get("CONSUL_HTTP_ADDR", "")
    tls = os.environ.get("CONSUL_HTTP_SSL", "").lower() in ("1", "true")
    base = _base_url(address or "127.0.0.1:8500", tls)
    headers = {}
    if token := os.environ.get("CONSUL_HTTP_TOKEN", ""):
        headers["X-Consul-Token"] = token
    url = f"{base}/v1/kv/{_quote_path(key)}"
    try:
        status, payload = _get_json(url, headers)
    except FuncError as exc:
        hint = "" if address else " (CONSUL_HTTP_ADDR is not set; set it to your Consul agent's address)"
        raise FuncError(f"error reading consul key: {exc}{hint}") from None
    if status == 404 or not payload:
        raise FuncError(f"key does not exist at the given path: {key}")
    raw = payload[0].get("Value") if isinstance(payload, list) and isinstance(payload[0], dict) else None
    value = base64.b64decode(raw).decode("utf-8", "replace") if isinstance(raw, str) else ""
    if value == "":
        raise FuncError(f"value is empty at path {key}")
    return value


def vault(path: str, key: str) -> str:
    """Field ``key`` of the Vault secret at ``path`` (KV v1, or v2 with ``secret/data/...``)."""
    token = os.environ.get("VAULT_TOKEN", "")
    if not token:
        raise FuncError("Must set VAULT_TOKEN env var in order to use vault template function")
    address = os.environ.get("VAULT_ADDR", "") or "https://127.0.0.1:8200"
    headers = {"X-Vault-Token": token}
    if namespace := os.environ.get("VAULT_NAMESPACE", ""):
        headers["X-Vault-Namespace"] = namespace
    url = f"{_base_url(address, True)}/v1/{_quote_path(path)}"
    try:
        status, payload = _get_json(url, headers)
    except FuncError as exc:
        hint = "" if os.environ.get("VAULT_ADDR") else " (VAULT_ADDR is not set)"
        raise FuncError(f"Error reading vault secret: {exc}{hint}") from None
    if status == 404 or not isinstance(payload, dict) or payload.get("data") is None:
        raise FuncError("Vault Secret does not exist at the given path.")
    data = payload["data"]
    inner = data.get("data") if isinstance(data, dict) else None
    source = inner if isinstance(inner, dict) else data
    if isinstance(source, dict) and key in source:
        return str(source[key])
    warnings = payload.get("warnings") or []
    joined = "; ".join(str(w) for w in warnings) if isinstance(warnings, list) else ""
    raise FuncError(f"Vault data was empty at the given path (no key {key!r}). Warnings: {joined}")


def aws_secret(name: str, key: str) -> str:
    """A secret from AWS Secrets Manager through boto3: the plaintext, the only key, or ``key``."""
    try:
        boto3: Any = importlib.import_module("boto3")
    except ImportError:
        raise FuncError(
            "aws_secretsmanager needs the Python package boto3, which is not installed "
            "(pip install boto3); credentials and region come from the standard AWS environment "
            "(AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
        ) from None
    try:
        # AWS_REGION first, as the Go SDK Packer uses reads it; botocore alone reads only AWS_DEFAULT_REGION
        client = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None).client("secretsmanager")
        response = client.get_secret_value(SecretId=name)
    except Exception as exc:  # botocore raises many types; all are "could not read"
        raise FuncError(f"Error getting secret: {exc}") from None
    return pick_secret_value(name, response.get("SecretString"), key)


def pick_secret_value(name: str, secret: Any, key: str) -> str:
    """Packer's rules: with a key pick it from the JSON object; without, plaintext or the single key."""
    if not isinstance(secret, str):
        raise FuncError(f"secret {name} has no string value")
    try:
        parsed = json.loads(secret)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        if key:
            raise FuncError(f"secret {name} is plaintext, it has no key {key}")
        return secret
    if key:
        if key not in parsed:
            raise FuncError(f"No secret found for key {key!r} in secret {name}")
        return str(parsed[key])
    if len(parsed) == 1:
        return str(next(iter(parsed.values())))
    raise FuncError(f"secret {name} holds {len(parsed)} keys; give the key to use as second argument")

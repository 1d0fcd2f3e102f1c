"""Registry credentials for pull and push, found as the docker CLI finds them.

``login`` in a template (Packer runs ``docker login`` … ``docker logout``) keeps the credentials in
memory for the driver's pull or push instead of writing them to the docker config. Without it, the
credentials come from ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): ``auths``
entries, or the ``credHelpers``/``credsStore`` helper programs (``docker-credential-<name> get``).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imagesmith.errors import BuildError, ToolError
from imagesmith.run import run

DOCKER_HUB = "https://index.docker.io/v1/"


def registry_of(image: str) -> str:
    """The registry an image name lives in (Docker Hub unless its first part names a host)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def encode_auth(auth: Mapping[str, str]) -> str:
    """The ``X-Registry-Auth`` header value: base64url of the JSON credentials (``{}`` for none)."""
    return base64.urlsafe_b64encode(json.dumps(dict(auth)).encode()).decode()


def config_path() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


def read_config() -> dict[str, Any]:
    try:
        config: dict[str, Any] = json.loads(config_path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise BuildError(f"Error reading the docker config {config_path()}: {exc}") from None
    return config


def _from_auths(config: Mapping[str, Any], server: str) -> dict[str, str] | None:
    for key, entry in (config.get("auths") or {}).items():
        host = key.removeprefix("https://").removeprefix("http://").split("/")[0]
        if key == server or host == server.removeprefix("https://").split("/")[0]:
            if entry.get("identitytoken"):
                return {"identitytoken": entry["identitytoken"], "serveraddress": server}
            if entry.get("auth"):
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                return {"username": user, "password": password, "serveraddress": server}
    return None


async def _from_helper(helper: str, server: str) -> dict[str, str] | None:
    try:
        done = await run([f"docker-credential-{helper}", "get"], stdin=server.encode(), what="credential helper")
    except ToolError as exc:
        if "credentials not found" in exc.stderr.lower() or "credentials not found" in str(exc).lower():
            return None
        raise BuildError(f"Error getting credentials for {server}: {exc}") from None
    found = json.loads(done.stdout or b"{}")
    if found.get("Username") == "<token>":
        return {"identitytoken": found.get("Secret", ""), "serveraddress": server}
    return {"username": found.get("Username", ""), "password": found.get("Secret", ""), "serveraddress": server}


async def stored_auth(server: str) -> dict[str, str]:
    """The credentials the docker CLI would use for ``server`` ({} when it has none)."""
    config = read_config()
    helper = (config.get("credHelpers") or {}).get(server) or config.get("credsStore")
    found = await _from_helper(helper, server) if helper else None
    return found or _from_auths(config, server) or {}

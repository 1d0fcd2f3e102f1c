"""The ``aws_secretsmanager`` template function against moto's Secrets Manager (loopback-only namespace).

Packer 1.6.6 cannot be the oracle here: its Secrets Manager client has no endpoint option and
would go to the real AWS. The function's rules (plaintext, single key, named key) are Packer's,
covered offline in tests/unit/test_engine_secrets.py; this checks the real request path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.integration.test_amazon_harness import Moto, moto_fixture  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration]
REGION = "us-west-1"


def render_with(moto: Moto, tmp_path: Path, expression: str) -> tuple[int, str, str]:
    """Build a null template whose variable is ``expression``; return the code, output and the value seen."""
    out = tmp_path / "value.txt"
    template = {
        "variables": {"db": expression},
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": [f"printf %s '{{{{user `db`}}}}' > {out}"]}],
    }
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(template))
    result = moto.run([sys.executable, "-m", "imagesmith", "build", str(path)], env={"AWS_REGION": REGION},
                      cwd=tmp_path)  # fmt: skip
    seen = out.read_text() if out.exists() else ""
    return result.returncode, result.stdout + result.stderr, seen


def test_a_named_key_of_a_json_secret_is_read_from_moto(moto: Moto, tmp_path: Path) -> None:
    client = moto.client("secretsmanager", REGION)
    moto.call(lambda: client.create_secret(Name="prod/db", SecretString='{"user": "app", "password": "s3cr3t-pw"}'))
    code, output, seen = render_with(moto, tmp_path, "{{ aws_secretsmanager `prod/db` `password` }}")
    assert code == 0, output
    assert seen == "s3cr3t-pw"
    assert any(c.action == "GetSecretValue" for c in moto.calls())


def test_a_plaintext_secret_is_read_whole(moto: Moto, tmp_path: Path) -> None:
    client = moto.client("secretsmanager", REGION)
    moto.call(lambda: client.create_secret(Name="token", SecretString="plain-token-value"))
    code, output, seen = render_with(moto, tmp_path, "{{ aws_secretsmanager `token` }}")
    assert code == 0, output
    assert seen == "plain-token-value"


def test_a_missing_secret_is_a_clear_error_without_traceback(moto: Moto, tmp_path: Path) -> None:
    code, output, seen = render_with(moto, tmp_path, "{{ aws_secretsmanager `nope` }}")
    assert code != 0
    assert "Error getting secret" in output and "ResourceNotFoundException" in output
    assert "Traceback" not in output and seen == ""

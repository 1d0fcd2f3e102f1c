"""HCL2's ``aws_secretsmanager``/``aws_secretsmanager_raw`` against moto's server (in its loopback-only
namespace), and ``vault``/``consul_key`` against the stand-in HTTP server that speaks Vault's and
Consul's KV APIs (tests/unit/test_engine_secrets.py). What they return is masked everywhere."""

from __future__ import annotations

import json

import pytest

from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.display import printable
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.parser import parse_expression
from imagesmith.hcl2.values import Value
from imagesmith.secrets import scrub
from tests.integration.test_amazon_harness import AWS_ENV, Moto, moto_fixture
from tests.unit.test_engine_secrets import TOKEN, fake_server

__all__ = ["fake_server", "moto_fixture"]  # fixtures used here by name


def _eval(expr: str) -> tuple[Value | None, str]:
    parsed, diags = parse_expression(expr)
    out = Diagnostics(diags)
    val = evaluate(parsed, EvalContext({}, standard_functions()), out)
    return (None, out.errors()[0].detail) if out.has_errors() else (val, "")


def _plain(expr: str) -> str:
    val, err = _eval(expr)
    assert val is not None, err
    return val.unmark()[0].as_str()


def test_aws_secretsmanager_reads_moto(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = moto.client("secretsmanager")
    moto.call(lambda: client.create_secret(Name="app/plain", SecretString="hunter2-plain"))
    moto.call(lambda: client.create_secret(Name="app/json", SecretString=json.dumps({"user": "u1", "pw": "p1"})))
    moto.call(lambda: client.create_secret(Name="app/one", SecretString=json.dumps({"only": "o1"})))
    assert moto.call(lambda: _plain('aws_secretsmanager("app/plain", null)')) == "hunter2-plain"
    assert moto.call(lambda: _plain('aws_secretsmanager("app/json", "pw")')) == "p1"
    assert moto.call(lambda: _plain('aws_secretsmanager("app/one", null)')) == "o1"
    assert json.loads(moto.call(lambda: _plain('aws_secretsmanager_raw("app/json")'))) == {"user": "u1", "pw": "p1"}
    val, _ = moto.call(lambda: _eval('upper(aws_secretsmanager("app/plain", null))'))
    assert val is not None and printable(val) == "<sensitive>"
    assert scrub("got hunter2-plain") == "got <sensitive>"
    _, err = moto.call(lambda: _eval('aws_secretsmanager("app/missing", null)'))
    assert "Error getting secret" in err and "ResourceNotFound" in err
    _, err = moto.call(lambda: _eval('aws_secretsmanager("app/json", "nope")'))
    assert "No secret found for key 'nope'" in err
    assert "GetSecretValue" in moto.actions()


def test_vault_and_consul_key_stand_in(fake_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://" + fake_server)
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    monkeypatch.setenv("CONSUL_HTTP_ADDR", fake_server)
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", TOKEN)
    assert _plain('vault("secret/legacy", "user")') == "v1-user"
    assert _plain('vault("/secret/data/modern", "user")') == "v2-user"
    assert _plain('consul_key("app/db/password")') == "s3cret"
    val, _ = _eval('"pw=${consul_key("app/db/password")}"')
    assert val is not None and printable(val) == "<sensitive>"
    assert scrub("s3cret") == "<sensitive>"
    _, err = _eval('vault("secret/missing", "user")')
    assert err == 'Call to function "vault" failed: Vault Secret does not exist at the given path.'
    monkeypatch.delenv("VAULT_TOKEN")
    _, err = _eval('vault("secret/legacy", "user")')
    assert "Must set VAULT_TOKEN env var" in err

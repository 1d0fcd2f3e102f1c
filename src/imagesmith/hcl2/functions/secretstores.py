"""``vault``, ``consul_key``, ``aws_secretsmanager`` and ``aws_secretsmanager_raw``: Packer's functions
that read secret stores, through the same clients as the JSON template engine
(:mod:`imagesmith.template.secrets_backends`: VAULT_ADDR/VAULT_TOKEN, CONSUL_HTTP_ADDR, boto3's chain).

Unlike Packer, what they return is marked sensitive (it prints as ``<sensitive>``, and so does
everything computed from it) and registered with the run's secret filter, so a secret never reaches
the output.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.types import STRING
from imagesmith.hcl2.values import SENSITIVE, Value, string_val


def _secret(fetch: Callable[[], str]) -> Value:
    from imagesmith.secrets import secrets
    from imagesmith.template.engine.functions import FuncError

    try:
        text = fetch()
    except FuncError as exc:
        raise FunctionError(str(exc).rstrip(".")) from None  # the call error adds its own full stop
    secrets.add(text)
    return string_val(text).with_marks([SENSITIVE])


def _vault(args: list[Value]) -> Value:
    from imagesmith.template.secrets_backends import vault

    return _secret(lambda: vault(args[0].as_str(), args[1].as_str()))


def _consul(args: list[Value]) -> Value:
    from imagesmith.template.secrets_backends import consul_key

    return _secret(lambda: consul_key(args[0].as_str()))


def _aws(args: list[Value]) -> Value:
    from imagesmith.template.secrets_backends import aws_secret

    key = "" if args[1].is_null else args[1].as_str()
    return _secret(lambda: aws_secret(args[0].as_str(), key))


def _aws_raw(args: list[Value]) -> Value:
    return _secret(lambda: fetch_raw_aws_secret(args[0].as_str()))


def fetch_raw_aws_secret(name: str) -> str:
    """The secret's whole ``SecretString`` from AWS Secrets Manager (boto3's credential chain)."""
    from imagesmith.template.engine.functions import FuncError

    boto3: Any = importlib.import_module("boto3")
    try:
        response = boto3.session.Session().client("secretsmanager").get_secret_value(SecretId=name)
    except Exception as exc:  # botocore raises many types; all are "could not read"
        raise FuncError(f"Error getting secret: {exc}") from None
    secret = response.get("SecretString")
    if not isinstance(secret, str):
        raise FuncError(f"secret {name} has no string value")
    return secret


FUNCTIONS = {
    "vault": make([Param("path", STRING), Param("key", STRING)], STRING, _vault),
    "consul_key": make([Param("key", STRING)], STRING, _consul),
    "aws_secretsmanager": make([Param("name", STRING), Param("key", STRING, allow_null=True)], STRING, _aws),
    "aws_secretsmanager_raw": make([Param("name", STRING)], STRING, _aws_raw),
}

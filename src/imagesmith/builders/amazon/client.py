"""The only code that talks to AWS: a botocore session, clients per region, and one ``call``.

Why boto3's botocore in threads and not aiobotocore: a build makes a few dozen short calls, each
answered in milliseconds by a local endpoint (well under a second by AWS), so running them in a
worker thread (``asyncio.to_thread``) costs nothing measurable. What does cost is importing
botocore and loading the EC2 service model for the first client (measured: docs/amazon.md);
aiobotocore pays the same (it is botocore underneath) plus aiohttp, and pins botocore to one
version. Only botocore is imported (boto3's resource layer and s3transfer are not needed), and its
service models are cut to the operations imagesmith calls and cached (:mod:`.models`).

Endpoints: ``custom_endpoint_ec2`` applies to every client of the session (as in Packer, whose
``WithEndpoint`` is session-wide); without it botocore takes ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_<SERVICE>`` from the environment itself. Credentials: keys from the template,
else ``profile`` (with ``shared_credentials_file``), else botocore's chain (environment, shared
files); then ``assume_role`` through STS, whose endpoint follows the same rule. Every credential
is registered with the secret filter before any call, so it is masked in all output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imagesmith.builders.amazon.config import AccessConfig
from imagesmith.errors import BuildError
from imagesmith.secrets import scrub, secrets


class AwsError(BuildError):
    """A failed AWS call: names the service, the call, the error code and its message."""

    def __init__(self, service: str, operation: str, code: str, message: str) -> None:
        self.code = code
        super().__init__(scrub(f"{service} {operation} failed: {code}: {message}"))


@dataclass
class Aws:
    """Clients of one session; ``calls`` counts the requests made (for benchmarks and logs)."""

    config: AccessConfig
    session: Any = None
    calls: int = 0
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str = "") -> Any:
        """A client for ``service`` in ``region`` (default: the build region), made once."""
        region = region or self.config.region
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = make_client(self.session, service, region, self.config)
        return self._clients[key]

    def set_credentials(self, access_key: str, secret_key: str, token: str) -> None:
        """Use other credentials from now on (clients made before are dropped)."""
        self.session.set_credentials(access_key, secret_key, token)
        self._clients.clear()

    async def call(
        self,
        service: str,
        operation: str,
        region: str = "",
        on_result: Callable[[dict[str, Any]], None] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Call ``operation`` (e.g. ``RunInstances``) with ``params``; raise :class:`AwsError`.

        The request runs in a worker thread. If the build is cancelled meanwhile, the request is
        still waited for and its result handed to ``on_result`` before the cancellation goes on,
        so a resource it created is known to the cleanup.
        """
        client = self.client(service, region)
        method = getattr(client, _snake(operation), None)
        if method is None:  # a bug: models.OPERATIONS lacks it
            raise BuildError(f"internal error: {service} {operation} is not in imagesmith's trimmed AWS models")
        self.calls += 1
        future = asyncio.ensure_future(asyncio.to_thread(_invoke, method, service, operation, params))
        try:
            result: dict[str, Any] = await asyncio.shield(future)
        except asyncio.CancelledError:
            try:
                result = await future
            except AwsError:
                raise asyncio.CancelledError from None
            if on_result is not None:
                on_result(result)
            raise
        if on_result is not None:
            on_result(result)
        return result


def _invoke(method: Callable[..., dict[str, Any]], service: str, operation: str, params: dict[str, Any]) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
    from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

    try:
        return method(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(service, operation, error.get("Code", "Unknown"), error.get("Message", str(exc))) from None
    except BotoCoreError as exc:
        raise AwsError(service, operation, type(exc).__name__, str(exc)) from None
    except ResponseParserError as exc:  # not a BotoCoreError: e.g. an HTML error page (moto's 500s)
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise AwsError(service, operation, "ResponseParserError", first_line) from None


def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def make_client(session: Any, service: str, region: str, config: AccessConfig) -> Any:
    """A botocore client with the endpoint rule above and ``max_retries``."""
    from botocore.config import Config  # type: ignore[import-untyped]

    retries = {"max_attempts": config.max_retries, "mode": "standard"} if config.max_retries else None
    # path-style S3 addressing: a local endpoint has no bucket.<host> names (Packer 1.6.6 cannot do this)
    s3 = {"addressing_style": "path"} if service == "s3" else None
    options: dict[str, Any] = {"region_name": region, "config": Config(retries=retries, s3=s3)}
    if config.custom_endpoint_ec2:
        options["endpoint_url"] = config.custom_endpoint_ec2
    if config.insecure_skip_tls_verify:
        options["verify"] = False
    return session.create_client(service, **options)


def make_session(config: AccessConfig) -> Any:
    """A botocore session with the template's credentials (see the module docstring)."""
    import botocore.session  # type: ignore[import-untyped]

    from imagesmith.builders.amazon.models import TrimmedLoader

    secrets.add(config.access_key, config.secret_key, config.token)
    session = botocore.session.Session(profile=config.profile or None)
    session.register_component("data_loader", TrimmedLoader())
    if config.shared_credentials_file:
        session.set_config_variable("credentials_file", config.shared_credentials_file)
    if config.access_key:
        session.set_credentials(config.access_key, config.secret_key, config.token or None)
    credentials = session.get_credentials()
    if credentials is None:
        raise BuildError(
            "no AWS credentials found: set access_key/secret_key, profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    frozen = credentials.get_frozen_credentials()
    secrets.add(frozen.access_key, frozen.secret_key, frozen.token or "")
    return session


async def assume_role(aws: Aws) -> None:
    """Replace the session's credentials by those of ``assume_role`` (STS AssumeRole)."""
    role = aws.config.assume_role
    if role is None or not role.role_arn:
        return
    params: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name or "imagesmith"}
    if role.duration_seconds:
        params["DurationSeconds"] = role.duration_seconds
    if role.external_id:
        params["ExternalId"] = role.external_id
    if role.policy:
        params["Policy"] = role.policy
    if role.policy_arns:
        params["PolicyArns"] = [{"arn": arn} for arn in role.policy_arns]
    if role.tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(role.tags.items())]
    if role.transitive_tag_keys:
        params["TransitiveTagKeys"] = role.transitive_tag_keys
    result = await aws.call("sts", "AssumeRole", **params)
    creds = result["Credentials"]
    secrets.add(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    aws.set_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

"""Where a worker puts the files of a build's artifacts: ``file://`` (a shared filesystem) or ``s3://``.

Files never travel through the broker. A file lands at ``<store>/<build id>/<path>``, where
``path`` is the artifact's path relative to the build's directory (its base name when absolute).
S3 credentials and endpoint come from the worker's environment, as for any boto3 program
(``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL_S3``, ...); the bucket must exist.
"""

from __future__ import annotations

import shutil
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Any

from imagesmith.errors import ImagesmithError, UsageError

SCHEMES = ("file", "s3")


def check_store_url(url: str) -> str:
    """Refuse anything but ``file:///absolute/dir`` and ``s3://bucket[/prefix]``; return ``url``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file" and parts.path.startswith("/") and parts.netloc in ("", "localhost"):
        return url
    if parts.scheme == "s3" and parts.netloc:
        return url
    raise UsageError(f'invalid -artifact-store "{url}"', hint="use file:///shared/dir or s3://bucket/prefix")


def store_key(path: str, workdir: Path) -> str:
    """The artifact file's name under its build's folder in the store."""
    candidate = Path(path)
    full = candidate if candidate.is_absolute() else workdir / candidate
    try:
        return full.resolve().relative_to(workdir.resolve()).as_posix()
    except ValueError:
        return candidate.name


def put_file(store: str, build_id: str, local: Path, key: str) -> str:
    """Copy ``local`` into the store as ``<build id>/<key>``; return its location URL."""
    parts = urllib.parse.urlsplit(store)
    name = PurePosixPath(_safe(build_id)) / key
    if parts.scheme == "file":
        target = Path(parts.path) / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, target)
        except OSError as exc:
            raise ImagesmithError(f"artifact store: copying {local} to {target}: {exc.strerror or exc}") from exc
        return target.as_uri()
    prefix = parts.path.strip("/")
    object_key = f"{prefix}/{name}" if prefix else str(name)
    _upload(parts.netloc, object_key, local)
    return f"s3://{parts.netloc}/{object_key}"


def _upload(bucket: str, key: str, local: Path) -> None:
    import boto3  # type: ignore[import-untyped]
    import botocore.exceptions  # type: ignore[import-untyped]

    client: Any = boto3.client("s3")
    try:
        client.upload_file(str(local), bucket, key)
    except (
        botocore.exceptions.BotoCoreError,
        botocore.exceptions.ClientError,
        boto3.exceptions.S3UploadFailedError,
    ) as exc:
        raise ImagesmithError(f"artifact store: S3 PutObject s3://{bucket}/{key}: {exc}") from exc


def _safe(build_id: str) -> str:
    return build_id.replace("/", "_").replace(":", "_")

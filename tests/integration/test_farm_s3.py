"""Farm artifacts in an ``s3://`` store: moto's S3 server in a loopback-only network namespace, with
Redis, the real Celery worker and the client all inside it (every AWS endpoint local)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.farm_support import need_farm, running_farm, write_template
from tests.integration.test_amazon_harness import AWS_ENV, Moto, moto_fixture  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_artifacts_go_to_the_s3_store_and_the_summary_says_where(moto: Moto, tmp_path: Path) -> None:
    need_farm()
    s3 = moto.client("s3")
    moto.call(lambda: s3.create_bucket(Bucket="farm-artifacts"))
    raw = {"builders": [{"type": "file", "name": "img", "content": "made-on-a-worker", "target": "disk.img"}]}
    template = write_template(tmp_path / "t", raw)
    env = {**AWS_ENV, "AWS_DEFAULT_REGION": "us-east-1"}
    with running_farm(tmp_path / "farm", wrap=moto.nsenter([]), env=env) as farm:
        farm.start_worker("cloudy", "cloud")
        done = farm.build("-artifact-store=s3://farm-artifacts/builds", str(template), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = moto.call(lambda: s3.list_objects_v2(Bucket="farm-artifacts"))
    keys = [item["Key"] for item in listed.get("Contents", [])]
    assert len(keys) == 1 and keys[0].startswith("builds/") and keys[0].endswith("/disk.img"), keys
    body = moto.call(lambda: s3.get_object(Bucket="farm-artifacts", Key=keys[0])["Body"].read())
    assert body == b"made-on-a-worker"
    assert f"--> img: stored at s3://farm-artifacts/{keys[0]}" in done.stdout
    assert AWS_ENV["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr

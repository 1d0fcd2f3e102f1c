"""The farm over a broker that needs a password and TLS, as docs/farm.md tells users to run it
across machines: a real redis-server with ``requirepass`` and ``tls-port`` on 127.0.0.1, a
throw-away CA, a real Celery worker and the client, all with ``rediss://:PASSWORD@...`` URLs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.farm_support import Farm, need_farm, null_build, running_farm, write_template

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PASSWORD = "broker-pass-5521"


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    need_farm()
    with running_farm(tmp_path_factory.mktemp("farm-tls"), password=PASSWORD, tls=True) as farm:
        farm.start_worker("tls", "")
        yield farm


def test_a_build_runs_over_tls_with_a_password_that_is_never_printed(farm: Farm, tmp_path: Path) -> None:
    assert farm.redis.url.startswith(f"rediss://:{PASSWORD}@127.0.0.1:")
    builder, provisioner = null_build("secure", "echo worker=$IMAGESMITH_FARM_WORKER")
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    done = farm.build(str(template), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "secure: worker=tls" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    assert PASSWORD not in farm.workers[0].text()
    # the port speaks only TLS: a plain-text client gets no answer
    plain = subprocess.run(
        ["redis-cli", "-p", str(farm.redis.port), "-a", PASSWORD, "--no-auth-warning", "ping"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "PONG" not in plain.stdout


def test_a_wrong_password_is_a_clear_error_that_does_not_print_it(farm: Farm, tmp_path: Path) -> None:
    builder, provisioner = null_build("denied", "echo never")
    template = write_template(tmp_path / "t", {"builders": [builder], "provisioners": [provisioner]})
    wrong = farm.redis.url.replace(PASSWORD, "wrong-pass-0093")
    done = subprocess.run(
        [sys.executable, "-m", "imagesmith", "build", f"-executor=celery+{wrong}", str(template)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert "wrong-pass-0093" not in done.stdout + done.stderr and PASSWORD not in done.stdout + done.stderr
    assert "<sensitive>" in done.stderr + done.stdout
    assert "never" not in done.stdout

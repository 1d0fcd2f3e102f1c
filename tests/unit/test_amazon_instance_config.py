"""Offline: amazon-instance's configuration (Packer 1.6.6's defaults for the bundle commands, its checks)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from imagesmith.builders.amazon.instance_config import BUNDLE_VOL_COMMAND, InstanceConfig
from tests.unit.test_amazon_siblings import COMMON, problems_of


def instance(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    (tmp_path / "cert.pem").write_text("cert")
    (tmp_path / "key.pem").write_text("key")
    return {
        **COMMON, "communicator": "ssh", "ssh_username": "root", "ami_name": "store-1", "account_id": "1234-5678-9012",
        "s3_bucket": "b", "x509_cert_path": str(tmp_path / "cert.pem"), "x509_key_path": str(tmp_path / "key.pem"),
        **overrides,
    }  # fmt: skip


def test_defaults_are_packers(tmp_path: Path) -> None:
    config, problems = problems_of(InstanceConfig, instance(tmp_path))
    assert problems == []
    full = config.with_defaults()
    assert (full.bundle_destination, full.x509_upload_path, full.bundle_prefix) == (
        "/tmp",
        "/tmp",
        "image-{{timestamp}}",
    )
    assert full.account == "123456789012"
    assert full.bundle_vol_command == BUNDLE_VOL_COMMAND
    assert " -a {{.AccessKey}} -s {{.SecretKey}} " in full.bundle_upload_command
    # an instance profile gives the instance its own credentials: none on the command line
    profiled, _ = problems_of(InstanceConfig, instance(tmp_path, iam_instance_profile="builder"))
    assert "{{.AccessKey}}" not in profiled.with_defaults().bundle_upload_command
    mine, _ = problems_of(InstanceConfig, instance(tmp_path, bundle_vol_command="my-bundle", bundle_prefix="p"))
    assert (mine.with_defaults().bundle_vol_command, mine.with_defaults().bundle_prefix) == ("my-bundle", "p")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"account_id": ""}, "account_id is required"),
        ({"s3_bucket": ""}, "s3_bucket is required"),
        ({"x509_key_path": ""}, "x509_key_path is required"),
        ({"x509_cert_path": "/nonexistent/cert.pem"}, "x509_cert_path points to bad file"),
        ({"communicator": "none"}, "amazon-instance needs a communicator"),
        ({"run_volume_tags": {"a": "b"}}, "unknown configuration key: 'run_volume_tags'"),
        ({"spot_price": "auto", "sriov_support": True}, "Spot instances do not support modification"),
    ],
)
def test_checks(tmp_path: Path, overrides: dict[str, Any], expected: str) -> None:
    _, problems = problems_of(InstanceConfig, instance(tmp_path, **overrides))
    assert any(expected in p for p in problems), problems


def _clear_keys(raw: dict[str, Any], key_name: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Run StepCleanupTempKeys against a recording communicator; its calls and the UI lines."""
    from imagesmith.builders.amazon.client import Aws
    from imagesmith.builders.amazon.config import EbsConfig
    from imagesmith.builders.amazon.state import EbsState
    from imagesmith.builders.amazon.steps.cleanup_temp_keys import CleanupTempKeys
    from imagesmith.core.plugin import BuildContext, BuildInfo
    from tests.unit.cm_fakes import ListUi, RecordingComm

    async def never(*args: Any) -> Any:
        raise AssertionError("no provisioning here")

    config, problems = problems_of(EbsConfig, {**COMMON, "ami_name": "name-1", **raw})
    assert problems == []
    ui = ListUi()
    state = EbsState(config, Aws(config), BuildContext(ui, BuildInfo("b", "amazon-ebs"), never, never))
    state.key_name, state.communicator = key_name, RecordingComm({"sudo": 1})
    asyncio.run(CleanupTempKeys().run(state))
    return state.communicator.calls, ui.lines


def test_temporary_key_lines_are_cleared_only_when_asked() -> None:
    ssh = {"communicator": "ssh", "ssh_username": "u"}
    calls, lines = _clear_keys({**ssh, "ssh_clear_authorized_keys": True}, "packer_1234")
    assert calls == [
        ("exec", "sed -i.bak '/ packer_1234$/d' ~/.ssh/authorized_keys; rm ~/.ssh/authorized_keys.bak"),
        ("exec", "sudo sed -i.bak '/ packer_1234$/d' /root/.ssh/authorized_keys; "
                 "sudo rm /root/.ssh/authorized_keys.bak"),
    ]  # fmt: skip
    assert any("please clean up keys manually" in text for _, text in lines)  # sudo failed: reported, not fatal
    assert _clear_keys(ssh, "packer_1234")[0] == []  # not asked
    given = {**ssh, "ssh_clear_authorized_keys": True, "ssh_keypair_name": "mine", "ssh_agent_auth": True}
    assert _clear_keys(given, "mine")[0] == []  # not a temporary key pair

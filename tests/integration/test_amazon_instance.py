"""amazon-instance against moto (EC2 + S3), the guest being a test sshd in moto's namespace, with
recording stand-ins for the EC2 AMI tools (tests/standins/ec2-ami-tools/): there is no instance
store here, so ec2-bundle-vol bundles two small files for real and ec2-upload-bundle uploads the
parts and the manifest to moto's S3. Also compared with Packer 1.6.6 on the same template: the
EC2/S3 calls, the AMI and the guest commands (the stand-ins' call log).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import packer_available, require_tool
from tests.integration.test_amazon_ebs import leftovers, own_images, tags_of
from tests.integration.test_amazon_harness import AWS_ENV, ENDPOINT, Moto, moto_fixture, start_moto  # noqa: F401
from tests.integration.test_amazon_vs_packer import collapse, normalise, sort_map_order

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGION = "us-west-1"
SECRET = "instance-secret-never-shown"
TOOLS = Path(__file__).resolve().parents[1] / "standins" / "ec2-ami-tools"
SSHD = "/usr/sbin/sshd"
PORT = 2222
BUCKET = "bundles"


def instance_builder(work: Path) -> dict[str, Any]:
    """The builder block: the AMI tools' commands are Packer's defaults with the stand-ins' paths
    instead of ``sudo -i -n`` (which would reset PATH) and ``--url`` for moto's S3."""
    return {
        "type": "amazon-instance", "access_key": "AKIDEXAMPLEINSTANCE", "secret_key": SECRET,
        "region": REGION, "source_ami": "ami-21055220", "instance_type": "m1.small",
        "ami_name": "instance-store-{{ isotime `2006` }}", "ami_virtualization_type": "paravirtual",
        "account_id": "1234-5678-9012", "s3_bucket": BUCKET,
        "x509_cert_path": str(work / "cert.pem"), "x509_key_path": str(work / "key.pem"),
        "x509_upload_path": str(work / "guest-x509"), "bundle_destination": str(work / "guest-bundle"),
        "bundle_prefix": "image-{{user `stamp`}}",
        "bundle_vol_command": f"{TOOLS}/ec2-bundle-vol -k {{{{.KeyPath}}}} -u {{{{.AccountId}}}} -c {{{{.CertPath}}}} "
        "-r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter",
        "bundle_upload_command": f"{TOOLS}/ec2-upload-bundle -b {{{{.BucketName}}}} -m {{{{.ManifestPath}}}} "
        "-a {{.AccessKey}} -s {{.SecretKey}} -d {{.BundleDirectory}} --batch --region {{.Region}} --retry "
        f"--url {ENDPOINT}",
        "ami_block_device_mappings": [{"device_name": "/dev/sdb", "virtual_name": "ephemeral0"}],
        "tags": {"Base": "{{ .SourceAMIName }}"},
        "communicator": "ssh", "ssh_username": "root", "ssh_host": "127.0.0.1", "ssh_port": PORT,
        "ssh_timeout": "60s",
    }  # fmt: skip


def prepare(work: Path) -> None:
    """The local X.509 files and the guest's directories (the guest is this machine)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIBstandin\n-----END CERTIFICATE-----\n")
    (work / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nMIIBstandin\n-----END PRIVATE KEY-----\n")
    (work / "guest-x509").mkdir(exist_ok=True)
    (work / "guest-bundle").mkdir(exist_ok=True)


@contextlib.contextmanager
def guest_sshd(moto: Moto, directory: Path) -> Iterator[None]:
    """A real sshd in moto's namespace accepting any key (moto's temporary key pair) for root."""
    if not (os.path.exists(SSHD) and shutil.which("ssh-keygen")):
        require_tool(False, "needs OpenSSH's sshd")
    directory.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "host")], check=True)
    (directory / "sshd_config").write_text(
        f"Port {PORT}\nListenAddress 127.0.0.1\nHostKey {directory}/host\nPidFile {directory}/sshd.pid\n"
        "UsePAM no\nStrictModes no\nPermitRootLogin yes\nAuthorizedKeysFile none\n"
        "AuthorizedKeysCommand /usr/bin/echo %t %k\nAuthorizedKeysCommandUser root\n"
        "PubkeyAcceptedAlgorithms +ssh-rsa\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
    )
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    sshd = subprocess.Popen(moto.nsenter([SSHD, "-D", "-e", "-f", str(directory / "sshd_config")]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield
    finally:
        sshd.terminate()
        sshd.wait(10)


def run_instance_build(moto: Moto, work: Path, builder: dict[str, Any], tool: str = "imagesmith") -> Any:
    template = {"variables": {"stamp": "1600000000"}, "builders": [builder]}
    path = work / f"{tool}.json"
    path.write_text(json.dumps(template))
    argv = [*build_argv(tool), str(path)]
    return moto.run(argv, cwd=work)


def build_argv(tool: str) -> list[str]:
    return [sys.executable, "-m", "imagesmith", "build"] if tool == "imagesmith" else ["packer", "build"]


def guest_calls(work: Path) -> list[tuple[str, list[str]]]:
    log = work / "guest-bundle" / ".ec2-ami-tools-calls.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [(e["tool"], [a.replace(str(work), "<work>") for a in e["argv"]]) for e in entries]


def bucket_keys(moto: Moto) -> list[str]:
    s3 = moto.client("s3", REGION)
    listed = moto.call(lambda: s3.list_objects_v2(Bucket=BUCKET))
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_bundles_uploads_and_registers_the_manifest(moto: Moto, tmp_path: Path) -> None:
    work = tmp_path / "work"
    prepare(work)
    with guest_sshd(moto, tmp_path / "sshd"):
        result = run_instance_build(moto, work, instance_builder(work))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Bundling the volume..." in output and "ec2-bundle-vol complete." in output
    # the X.509 files reached the guest, and the AMI tools got them and Packer's arguments
    assert (work / "guest-x509" / "cert.pem").read_text() == (work / "cert.pem").read_text()
    assert (work / "guest-x509" / "key.pem").read_text() == (work / "key.pem").read_text()
    [(vol, vol_argv), (upload, upload_argv)] = guest_calls(work)
    assert vol == "ec2-bundle-vol" and upload == "ec2-upload-bundle"
    # Packer's unquoted ``-e {{.PrivatePath}}/*``: the guest's shell expands it to the two files
    assert vol_argv == ["-k", "<work>/guest-x509/key.pem", "-u", "123456789012", "-c", "<work>/guest-x509/cert.pem",
                        "-r", "x86_64", "-e", "<work>/guest-x509/cert.pem", "<work>/guest-x509/key.pem",
                        "-d", "<work>/guest-bundle", "-p", "image-1600000000", "--batch", "--no-filter"]  # fmt: skip
    assert upload_argv[:8] == ["-b", BUCKET, "-m", "<work>/guest-bundle/image-1600000000.manifest.xml",
                               "-a", "AKIDEXAMPLEINSTANCE", "-s", SECRET]  # fmt: skip
    assert bucket_keys(moto) == ["image-1600000000.manifest.xml", "image-1600000000.part.00"]
    register = next(c for c in moto.calls() if c.action == "RegisterImage")
    assert register.params["ImageLocation"] == f"{BUCKET}/image-1600000000.manifest.xml"
    assert register.params["VirtualizationType"] == "paravirtual"
    assert register.params["BlockDeviceMapping.1.VirtualName"] == "ephemeral0"
    [image] = own_images(moto)
    assert image["Name"].startswith("instance-store-")
    assert tags_of(image)["Base"].startswith("ubuntu/images/")
    assert f"{REGION}: {image['ImageId']}" in result.stdout
    actions = moto.actions()
    assert "StopInstances" not in actions  # the instance runs while its volume is bundled
    assert SECRET not in output
    assert leftovers(moto) == {}


def test_a_failing_bundle_command_stops_the_build_and_cleans_up(moto: Moto, tmp_path: Path) -> None:
    work = tmp_path / "work"
    prepare(work)
    builder = {**instance_builder(work), "account_id": "42"}  # ec2-bundle-vol refuses it
    with guest_sshd(moto, tmp_path / "sshd"):
        result = run_instance_build(moto, work, builder)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "must be 12 digits" in output
    assert "Volume bundling failed." in output and "ec2-bundle-vol not being" in output
    assert "Traceback" not in output
    assert "RegisterImage" not in moto.actions()
    assert own_images(moto) == [] and leftovers(moto) == {}


def test_validate_names_the_missing_bundle_options(tmp_path: Path) -> None:
    builder = {
        "type": "amazon-instance", "region": REGION, "source_ami": "ami-1", "instance_type": "m1.small",
        "ami_name": "x-{{timestamp}}", "x509_cert_path": str(tmp_path / "nope.pem"), "ssh_username": "root",
    }  # fmt: skip
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"builders": [builder]}))
    result = subprocess.run([sys.executable, "-m", "imagesmith", "validate", str(path)], capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for message in ("account_id is required", "s3_bucket is required", "x509_key_path is required",
                    f"x509_cert_path points to bad file: stat {tmp_path}/nope.pem"):  # fmt: skip
        assert message in output, output


_STAMPED = re.compile(r"instance-store-\d{4}")


@pytest.mark.compat
def test_same_calls_commands_and_ami_as_packer(tmp_path: Path) -> None:
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    results = {}
    for tool in ("packer", "imagesmith"):
        server = start_moto(tmp_path / f"moto-{tool}")
        work = tmp_path / tool
        prepare(work)
        extra = {"custom_endpoint_ec2": ENDPOINT, "skip_region_validation": True} if tool == "packer" else {}
        try:
            with guest_sshd(server, tmp_path / f"sshd-{tool}"):
                result = run_instance_build(server, work, {**instance_builder(work), **extra}, tool)
            assert result.returncode == 0, f"{tool}: {result.stdout}{result.stderr}"
            images = [(_STAMPED.sub("<name>", i["Name"]), tags_of(i)) for i in own_images(server)]
            calls = sort_map_order(collapse(normalise(server.calls())))
            results[tool] = (calls, images, guest_calls(work), bucket_keys(server), leftovers(server))
        finally:
            server.stop()
    for index, what in enumerate(("calls", "AMIs", "guest commands", "bucket", "leftovers")):
        assert results["imagesmith"][index] == results["packer"][index], what
    assert results["packer"][4] == {}


def test_a_failure_after_registering_deregisters_the_ami(moto: Moto, tmp_path: Path) -> None:
    """Packer 1.6.6 would leave the AMI here (docs/differences.md); imagesmith removes it."""
    work = tmp_path / "work"
    prepare(work)
    builder = {**instance_builder(work), "ami_users": ["not-an-account"]}  # ModifyImageAttribute fails
    with guest_sshd(moto, tmp_path / "sshd"):
        result = run_instance_build(moto, work, builder)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    actions = moto.actions()
    assert "RegisterImage" in actions and actions.index("DeregisterImage") > actions.index("RegisterImage")
    assert "Deregistering the AMI because of cancellation or error..." in output
    assert "ec2 ModifyImageAttribute failed" in output
    assert own_images(moto) == [] and leftovers(moto) == {}
    assert "Traceback" not in output

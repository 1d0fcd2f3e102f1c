"""The ``amazon-ami`` and ``amazon-secretsmanager`` HCL2 data sources against moto's server.

moto runs alone in a loopback-only network namespace (the harness of test_amazon_harness.py):
every endpoint is local, the metadata service is disabled and unreachable. Packer 1.6.6 has no
data sources, so it cannot be the oracle; the rules checked here are current Packer's (the
filter lookup is the amazon builders' own, covered against Packer in test_amazon_vs_packer.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.integration.test_amazon_harness import OWNER, Moto, moto_fixture  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration]
REGION = "us-east-1"
SECRET = "s3cr3t-from-moto"

TEMPLATE = """
data "amazon-ami" "focal" {
  region      = "%(region)s"
  filters     = { name = "ubuntu/images/ubuntu-focal-*" }
  owners      = ["%(owner)s"]
  most_recent = %(most_recent)s
}

data "amazon-secretsmanager" "db" {
  region = "%(region)s"
  name   = "%(secret)s"
  key    = "password"
}

locals {
  ami = data.amazon-ami.focal.id
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
  provisioner "shell-local" {
    inline = [
      "echo ami=${local.ami} name=${data.amazon-ami.focal.name} root=${data.amazon-ami.focal.root_device_type}",
      "echo secret=${data.amazon-secretsmanager.db.value}",
      "printf %%s '${data.amazon-secretsmanager.db.value}' > secret.txt",
    ]
  }
}
"""


def build(moto: Moto, tmp_path: Path, most_recent: str = "true", secret: str = "prod/db") -> tuple[int, str]:
    (tmp_path / "t.pkr.hcl").write_text(
        TEMPLATE % {"region": REGION, "owner": OWNER, "most_recent": most_recent, "secret": secret}
    )
    result = moto.run([sys.executable, "-m", "imagesmith", "build", "t.pkr.hcl"], cwd=tmp_path, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_data_sources_read_the_newest_ami_and_a_masked_secret(moto: Moto, tmp_path: Path) -> None:
    client = moto.client("secretsmanager", REGION)
    moto.call(lambda: client.create_secret(Name="prod/db", SecretString=f'{{"user": "app", "password": "{SECRET}"}}'))
    moto.reset_recording()
    code, output = build(moto, tmp_path)
    assert code == 0, output
    assert "ami=ami-0f0e0d0c name=ubuntu/images/ubuntu-focal-20.04-amd64-server-20201201 root=ebs" in output
    assert SECRET not in output and "secret=<sensitive>" in output
    assert (tmp_path / "secret.txt").read_text() == SECRET
    calls = {c.action: c for c in moto.calls()}
    assert calls["DescribeImages"].params == {
        "Owner.1": OWNER, "Filter.1.Name": "name", "Filter.1.Value.1": "ubuntu/images/ubuntu-focal-*",
    }  # fmt: skip
    assert calls["DescribeImages"].region == REGION
    assert "GetSecretValue" in calls
    ask = "echo data.amazon-secretsmanager.db.value data.amazon-ami.focal.owner | tr ' ' '\\n' | "
    console = moto.run(["sh", "-c", ask + f"{sys.executable} -m imagesmith console t.pkr.hcl"], cwd=tmp_path)
    assert console.stdout.split() == ["<sensitive>", OWNER], console.stdout + console.stderr
    assert SECRET not in console.stdout + console.stderr


def test_data_source_failures_are_located_errors_without_traceback(moto: Moto, tmp_path: Path) -> None:
    code, output = build(moto, tmp_path, most_recent="false", secret="nope")
    assert code != 0
    assert "Your query returned more than one result" in output
    assert "Secrets Manager Secret 'nope' Version 'AWSCURRENT' not found" in output
    assert "t.pkr.hcl:2:" in output and "t.pkr.hcl:9:" in output
    assert "Traceback" not in output and "Unsupported attribute" not in output


PARAMETER_TEMPLATE = """
data "amazon-parameterstore" "plain" {
  region = "%(region)s"
  name   = "/app/ami"
}

data "amazon-parameterstore" "secure" {
  region          = "%(region)s"
  name            = "%(secure)s"
  with_decryption = %(decrypt)s
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]
  provisioner "shell-local" {
    inline = [
      "echo plain=${data.amazon-parameterstore.plain.value} v=${data.amazon-parameterstore.plain.version}",
      "echo arn=${data.amazon-parameterstore.plain.arn}",
      "echo secure=${data.amazon-parameterstore.secure.value} v=${data.amazon-parameterstore.secure.version}",
      "printf %%s '${data.amazon-parameterstore.secure.value}' > secure.txt",
    ]
  }
}
"""


def seed_parameters(moto: Moto) -> None:
    ssm = moto.client("ssm", REGION)
    moto.call(lambda: ssm.put_parameter(Name="/app/ami", Value="ami-0123456789", Type="String"))
    moto.call(lambda: ssm.put_parameter(Name="/app/ami", Value="ami-0a0b0c0d0e", Type="String", Overwrite=True))
    moto.call(lambda: ssm.put_parameter(Name="/app/db", Value=SECRET, Type="SecureString"))


def build_parameters(moto: Moto, tmp_path: Path, secure: str = "/app/db", decrypt: str = "true",
                     verb: tuple[str, ...] = ("build",)) -> tuple[int, str]:  # fmt: skip
    (tmp_path / "p.pkr.hcl").write_text(
        PARAMETER_TEMPLATE % {"region": REGION, "secure": secure, "decrypt": decrypt}
    )
    argv = [sys.executable, "-m", "imagesmith", *verb, "p.pkr.hcl"]
    result = moto.run(argv, cwd=tmp_path, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_parameterstore_reads_values_versions_and_masks_a_secure_string(moto: Moto, tmp_path: Path) -> None:
    seed_parameters(moto)
    moto.reset_recording()
    code, output = build_parameters(moto, tmp_path)
    assert code == 0, output
    assert "plain=ami-0a0b0c0d0e v=2" in output  # the newest version, a plain String shown as is
    assert f"arn=arn:aws:ssm:{REGION}:" in output and "parameter/app/ami" in output
    assert "secure=<sensitive> v=1" in output and SECRET not in output
    assert (tmp_path / "secure.txt").read_text() == SECRET
    assert moto.actions().count("GetParameter") == 2


def test_parameterstore_without_decryption_gets_the_stored_form(moto: Moto, tmp_path: Path) -> None:
    seed_parameters(moto)
    code, output = build_parameters(moto, tmp_path, decrypt="false")
    assert code == 0, output
    assert (tmp_path / "secure.txt").read_text() != SECRET  # WithDecryption=false reached the service
    assert SECRET not in output


def test_parameterstore_missing_parameter_is_located_error(moto: Moto, tmp_path: Path) -> None:
    seed_parameters(moto)
    code, output = build_parameters(moto, tmp_path, secure="/app/nope")
    assert code != 0
    assert "The parameter name '/app/nope' not found" in output
    assert "p.pkr.hcl:7:" in output and "Traceback" not in output


def test_validate_calls_aws_only_with_evaluate_datasources(moto: Moto, tmp_path: Path) -> None:
    seed_parameters(moto)
    moto.reset_recording()
    code, output = build_parameters(moto, tmp_path, secure="/app/nope", verb=("validate",))
    assert code == 0, output  # the missing parameter is not looked up: nothing is asked of AWS
    assert "The configuration is valid." in output and "GetParameter" not in moto.actions()
    code, output = build_parameters(moto, tmp_path, secure="/app/nope", verb=("validate", "-evaluate-datasources"))
    assert code != 0 and "The parameter name '/app/nope' not found" in output
    assert moto.actions().count("GetParameter") == 2

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

"""amazon-ebs builds against moto's server in a loopback-only namespace (see test_amazon_harness)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_amazon_harness import AWS_ENV, OWNER, Moto, moto_fixture  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGION = "us-west-1"
SECRET = "YOUR_SECRET_KEY_HERE"
#: the issue's example, region fixed, no communicator (its instance has no reachable address)
EXAMPLE: dict[str, Any] = {
    "type": "amazon-ebs", "access_key": "YOUR_ACCESS_KEY_HERE", "secret_key": SECRET,
    "region": REGION, "source_ami": "ami-21055220", "instance_type": "t1.micro",
    "ssh_username": "ubuntu", "ssh_timeout": "10m", "ami_name": "Ubuntu_Server_12.04",
    "launch_block_device_mappings": [{"device_name": "/dev/sda1", "volume_size": 8, "delete_on_termination": True}],
    "ami_block_device_mappings": [{"device_name": "/dev/sdb", "virtual_name": "datadisk"}],
    "tags": {"OS_Version": "Ubuntu Server 13.10", "Release": "Stable"},
    "communicator": "none",
}  # fmt: skip


def build(moto: Moto, tmp_path: Path, builder: dict[str, Any], provisioners: list[dict[str, Any]] | None = None,
          tool: str = "imagesmith") -> subprocess.CompletedProcess[str]:  # fmt: skip
    template = {"builders": [builder], "provisioners": provisioners or []}
    path = tmp_path / f"{tool}.json"
    path.write_text(json.dumps(template))
    argv = (
        [sys.executable, "-m", "imagesmith", "build", str(path)]
        if tool == "imagesmith"
        else ["packer", "build", str(path)]
    )
    return moto.run(argv, cwd=tmp_path)


def leftovers(moto: Moto, region: str = REGION) -> dict[str, list[str]]:
    """Temporary resources still there: live instances, packer_ key pairs and groups, loose volumes,
    launch templates (spot), IAM instance profiles and roles (none exist before a build)."""
    reservations = moto.ec2("describe_instances", region)["Reservations"]
    live = [i["InstanceId"] for r in reservations for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    keys = [
        k["KeyName"] for k in moto.ec2("describe_key_pairs", region)["KeyPairs"] if k["KeyName"].startswith("packer_")
    ]
    groups = [g["GroupName"] for g in moto.ec2("describe_security_groups", region)["SecurityGroups"]
              if g["GroupName"].startswith("packer_")]  # fmt: skip
    volumes = [v["VolumeId"] for v in moto.ec2("describe_volumes", region)["Volumes"] if v["State"] == "available"]
    templates = [t["LaunchTemplateName"] for t in moto.ec2("describe_launch_templates", region)["LaunchTemplates"]]
    iam = moto.client("iam", region)
    profiles = [p["InstanceProfileName"] for p in moto.call(iam.list_instance_profiles)["InstanceProfiles"]]
    roles = [r["RoleName"] for r in moto.call(iam.list_roles)["Roles"]]
    found = {"instances": live, "key pairs": keys, "groups": groups, "volumes": volumes,
             "launch templates": templates, "instance profiles": profiles, "roles": roles}  # fmt: skip
    return {k: v for k, v in found.items() if v}


def own_images(moto: Moto, region: str = REGION) -> list[dict[str, Any]]:
    images: list[dict[str, Any]] = moto.ec2("describe_images", region, Owners=["self"])["Images"]
    return images


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_issue_example_makes_the_ami_and_leaves_nothing(moto: Moto, tmp_path: Path) -> None:
    result = build(moto, tmp_path, EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    [image] = own_images(moto)
    assert image["Name"] == "Ubuntu_Server_12.04"
    assert tags_of(image) == {"OS_Version": "Ubuntu Server 13.10", "Release": "Stable"}
    assert f"{REGION}: {image['ImageId']}" in result.stdout
    assert leftovers(moto) == {}
    assert SECRET not in result.stdout + result.stderr


def test_filter_tags_and_copies(moto: Moto, tmp_path: Path) -> None:
    builder = {
        **EXAMPLE, "source_ami": "", "ami_name": "focal-{{timestamp}}",
        "source_ami_filter": {"filters": {"name": "ubuntu/images/ubuntu-focal-*"}, "owners": [OWNER],
                              "most_recent": True},
        "ami_regions": ["eu-west-1", "us-east-2"],
        "tags": {"Base": "{{ .SourceAMIName }}", "Region": "{{ .BuildRegion }}"},
        "snapshot_tags": {"Kind": "snap of {{ .SourceAMI }}"},
        "run_tags": {"Purpose": "build from {{ .SourceAMI }}"},
    }  # fmt: skip
    result = build(moto, tmp_path, builder)
    assert result.returncode == 0, result.stdout + result.stderr
    source = "ubuntu/images/ubuntu-focal-20.04-amd64-server-20201201"
    for region in (REGION, "eu-west-1", "us-east-2"):
        [image] = own_images(moto, region)
        assert image["Name"].startswith("focal-")
        assert tags_of(image) == {"Base": source, "Region": REGION}
        snapshot_ids = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
        snapshots = moto.ec2("describe_snapshots", region, SnapshotIds=snapshot_ids)["Snapshots"]
        assert all(tags_of(s) == {"Base": source, "Region": REGION, "Kind": "snap of ami-0f0e0d0c"} for s in snapshots)
        assert leftovers(moto, region) == {}
    run = next(c for c in moto.calls() if c.action == "RunInstances")
    assert run.params["ImageId"] == "ami-0f0e0d0c"
    assert run.params["TagSpecification.1.Tag.2.Value"] == "build from ami-0f0e0d0c"
    copies = sorted(c.region for c in moto.calls() if c.action == "CopyImage")
    assert copies == ["eu-west-1", "us-east-2"]


def test_encrypted_boot_copies_into_the_build_region_and_drops_the_intermediary(moto: Moto, tmp_path: Path) -> None:
    result = build(moto, tmp_path, {**EXAMPLE, "encrypt_boot": True})
    assert result.returncode == 0, result.stdout + result.stderr
    [image] = own_images(moto)  # the intermediary (random name) is gone
    assert image["Name"] == "Ubuntu_Server_12.04"
    calls = moto.calls()
    create = next(c for c in calls if c.action == "CreateImage")
    assert create.params["Name"] != "Ubuntu_Server_12.04" and len(create.params["Name"]) == 7
    [copy] = [c for c in calls if c.action == "CopyImage"]
    # moto drops Encrypted, so the request is what is checked
    assert (copy.region, copy.params["Encrypted"], copy.params["KmsKeyId"]) == (REGION, "true", "")
    assert "DeregisterImage" in [c.action for c in calls]
    assert leftovers(moto) == {}


def test_force_deregister_replaces_an_existing_ami(moto: Moto, tmp_path: Path) -> None:
    first = build(moto, tmp_path, EXAMPLE)
    assert first.returncode == 0, first.stdout + first.stderr
    [old] = own_images(moto)
    again = build(moto, tmp_path, EXAMPLE)
    assert again.returncode != 0
    assert f"is used by an existing AMI: {old['ImageId']}" in again.stdout + again.stderr
    forced = build(moto, tmp_path, {**EXAMPLE, "force_deregister": True, "force_delete_snapshot": True})
    assert forced.returncode == 0, forced.stdout + forced.stderr
    [new] = own_images(moto)
    assert new["ImageId"] != old["ImageId"]
    old_snapshots = {m["Ebs"]["SnapshotId"] for m in old["BlockDeviceMappings"] if "Ebs" in m}
    remaining = {s["SnapshotId"] for s in moto.ec2("describe_snapshots", REGION, OwnerIds=["self"])["Snapshots"]}
    assert old_snapshots and not (old_snapshots & remaining)
    assert leftovers(moto) == {}


def test_failed_provisioning_cleans_up_everything(moto: Moto, tmp_path: Path) -> None:
    result = build(moto, tmp_path, EXAMPLE, [{"type": "shell-local", "inline": ["exit 3"]}])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    actions = moto.actions()
    assert leftovers(moto) == {}
    assert own_images(moto) == []
    assert "CreateImage" not in actions
    assert actions[-3:] == ["DescribeVolumes", "DeleteSecurityGroup", "DeleteKeyPair"]


def test_aws_error_names_the_call_and_masks_credentials(moto: Moto, tmp_path: Path) -> None:
    result = build(moto, tmp_path, {**EXAMPLE, "source_ami": "ami-00000000"})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ec2 DescribeImages failed: InvalidAMIID.NotFound" in output
    assert SECRET not in output and AWS_ENV["AWS_SECRET_ACCESS_KEY"] not in output
    assert "Traceback" not in output
    assert leftovers(moto) == {}


def test_credentials_from_the_environment_and_a_profile(moto: Moto, tmp_path: Path) -> None:
    no_keys = {k: v for k, v in EXAMPLE.items() if k not in ("access_key", "secret_key")}
    assert build(moto, tmp_path, no_keys).returncode == 0  # AWS_ACCESS_KEY_ID from the environment
    creds = tmp_path / "credentials"
    creds.write_text("[builder]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret-value\n")
    moto.reset_recording()
    profiled = {**no_keys, "profile": "builder", "shared_credentials_file": str(creds), "force_deregister": True}
    result = build(moto, tmp_path, profiled)
    assert result.returncode == 0, result.stdout + result.stderr
    auth = json.loads(moto.recording.read_text().splitlines()[0])["headers"]["Authorization"]
    assert "Credential=AKIDPROFILE/" in auth
    assert "profile-secret-value" not in result.stdout + result.stderr


SSHD = "/usr/sbin/sshd"


def test_provisioning_over_ssh_to_a_test_sshd(moto: Moto, tmp_path: Path) -> None:
    """ssh_host/ssh_port point at a real sshd (in moto's namespace) that accepts moto's temporary key."""
    if not (os.path.exists(SSHD) and shutil.which("ssh-keygen")):
        pytest.skip("needs OpenSSH's sshd")
    d = tmp_path / "sshd"
    d.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host")], check=True)
    port = 2222
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nPidFile {d}/sshd.pid\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin yes\nAuthorizedKeysFile none\n"
        "AuthorizedKeysCommand /usr/bin/echo %t %k\nAuthorizedKeysCommandUser root\n"
        "PubkeyAcceptedAlgorithms +ssh-rsa\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
    )
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    sshd = subprocess.Popen(moto.nsenter([SSHD, "-D", "-e", "-f", str(d / "sshd_config")]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        (tmp_path / "payload.txt").write_text("uploaded over ssh\n")
        out = tmp_path / "out"
        builder = {**EXAMPLE, "communicator": "ssh", "ssh_username": "root", "ssh_host": "127.0.0.1",
                   "ssh_port": port, "ssh_timeout": "60s"}  # fmt: skip
        provisioners = [
            {"type": "file", "source": str(tmp_path / "payload.txt"), "destination": f"{out}.file"},
            {"type": "shell", "inline": [f"echo built from $(cat {out}.file) > {out}.shell"]},
        ]
        result = build(moto, tmp_path, builder, provisioners)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Connected to SSH!" in result.stdout
        assert Path(f"{out}.shell").read_text() == "built from uploaded over ssh\n"
        groups = [c for c in moto.calls() if c.action == "AuthorizeSecurityGroupIngress"]
        assert groups[0].params["IpPermissions.1.FromPort"] == str(port)
        assert leftovers(moto) == {}
    finally:
        sshd.terminate()
        sshd.wait(10)


def test_ctrl_c_while_provisioning_cleans_up_and_says_so(moto: Moto, tmp_path: Path) -> None:
    marker = tmp_path / "provisioning"
    template = tmp_path / "t.json"
    provisioner = {"type": "shell-local", "inline": [f"touch {marker}", "sleep 120"]}
    template.write_text(json.dumps({"builders": [EXAMPLE], "provisioners": [provisioner]}))
    env = {**os.environ, **AWS_ENV}
    proc = subprocess.Popen(moto.nsenter([sys.executable, "-m", "imagesmith", "build", str(template)]), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the build never reached provisioning"
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert "Terminating the source AWS instance..." in output
    assert "Deleting temporary keypair..." in output
    assert "Traceback" not in output
    assert leftovers(moto) == {}
    assert own_images(moto) == []


def test_iam_instance_profile_is_checked_then_used(moto: Moto, tmp_path: Path) -> None:
    missing = build(moto, tmp_path, {**EXAMPLE, "iam_instance_profile": "nope"})
    assert missing.returncode != 0
    assert "Couldn't find specified instance profile: iam GetInstanceProfile failed: NoSuchEntity" in missing.stdout
    assert leftovers(moto) == {}
    iam = moto.client("iam")
    moto.call(lambda: iam.create_instance_profile(InstanceProfileName="builder"))
    result = build(moto, tmp_path, {**EXAMPLE, "iam_instance_profile": "builder"})
    assert result.returncode == 0, result.stdout + result.stderr
    run = next(c for c in moto.calls() if c.action == "RunInstances")
    assert run.params["IamInstanceProfile.Name"] == "builder"


def test_assume_role_goes_to_the_local_sts_and_signs_with_its_credentials(moto: Moto, tmp_path: Path) -> None:
    role = {"role_arn": "arn:aws:iam::123456789012:role/builder", "session_name": "imagesmith-test",
            "external_id": "ext-1"}  # fmt: skip
    result = build(moto, tmp_path, {**EXAMPLE, "assume_role": role})
    assert result.returncode == 0, result.stdout + result.stderr
    entries = [json.loads(line) for line in moto.recording.read_text().splitlines()]
    calls = moto.calls()
    assert calls[0].action == "AssumeRole"
    assert (calls[0].params["RoleArn"], calls[0].params["ExternalId"]) == (role["role_arn"], "ext-1")
    keys = {e["headers"]["Authorization"].split("Credential=")[1].split("/")[0] for e in entries[1:]}
    assert len(keys) == 1 and "YOUR_ACCESS_KEY_HERE" not in keys
    assert all("X-Amz-Security-Token" in e["headers"] for e in entries[1:])

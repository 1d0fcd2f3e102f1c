"""The amazon-import post-processor against moto: the S3 upload is real; ImportImage is not in moto.

moto's server stores S3 objects but answers ImportImage with an error (not implemented), so the
test checks what happens up to there: the image file is uploaded (path-style, to the local
endpoint), the import call is made with Packer's parameters and retried as Packer retries it,
and the failure names the call and leaves the object in the bucket, as Packer 1.6.6 does.
Packer itself cannot be the oracle: its S3 client would address ``bucket.127.0.0.1``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.integration.test_amazon_harness import Moto, moto_fixture  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REGION = "us-west-1"


def test_the_image_is_uploaded_then_the_import_fails_clearly(moto: Moto, tmp_path: Path) -> None:
    s3 = moto.client("s3", REGION)
    moto.call(lambda: s3.create_bucket(Bucket="images", CreateBucketConfiguration={"LocationConstraint": REGION}))
    template = {
        "builders": [{"type": "file", "content": "a disk image", "target": str(tmp_path / "disk.raw")}],
        "post-processors": [{
            "type": "amazon-import", "region": REGION, "s3_bucket_name": "images", "format": "raw",
            "s3_key_name": "imports/{{ build_name }}.raw", "license_type": "BYOL", "ami_name": "imported",
            "secret_key": "import-secret-never-shown", "access_key": "AKIDIMPORTEXAMPLE",
        }],
    }  # fmt: skip
    path = tmp_path / "import.json"
    path.write_text(json.dumps(template))
    result = moto.run([sys.executable, "-m", "imagesmith", "build", str(path)], cwd=tmp_path,
                      env={"AWS_POLL_DELAY_SECONDS": "1"})  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Completed upload of" in output and "s3://images/imports/file.raw" in output
    assert "Failed to start import from s3://images/imports/file.raw: ec2 ImportImage failed" in output
    assert "Traceback" not in output and "import-secret-never-shown" not in output
    body = moto.call(lambda: s3.get_object(Bucket="images", Key="imports/file.raw")["Body"].read())
    assert body == b"a disk image"  # left in the bucket after the failure, as Packer leaves it
    imports = [c for c in moto.calls() if c.action == "ImportImage"]
    # Packer's 11 tries, each retried by the SDK on moto's 500 (botocore's own retries, like aws-sdk-go's)
    assert len(imports) >= 11 and len(imports) % 11 == 0
    assert imports[0].params["DiskContainer.1.Format"] == "raw"
    assert imports[0].params["DiskContainer.1.UserBucket.S3Key"] == "imports/file.raw"
    assert imports[0].params["LicenseType"] == "BYOL"

"""The ``amazon-import`` post-processor: upload a disk image to S3 and import it as an AMI (Packer 1.6.6).

Steps: find the artifact's ``.<format>`` file, upload it to ``s3://s3_bucket_name/s3_key_name``
(PutObject; path-style addressing, so a local S3 endpoint works), ImportImage, wait for the import
task, rename by CopyImage when ``ami_name`` is set (and remove the imported original), tag the AMI
and its snapshots, set description and launch permissions, then delete the S3 object unless
``skip_clean``. As in Packer, a failure leaves the uploaded object in the bucket.

moto's server (the test endpoint) implements S3 but not ImportImage or DescribeImportImageTasks,
so only the upload and the failing import call are tested (tests/integration/test_amazon_import.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagesmith.builders.amazon.artifact import AmiArtifact
from imagesmith.builders.amazon.client import Aws, AwsError, make_session
from imagesmith.builders.amazon.config import AccessConfig
from imagesmith.builders.amazon.render import to_api_tags
from imagesmith.builders.amazon.steps.create_ami import delete_image_with, snapshots_of
from imagesmith.builders.amazon.wait import wait_limits, wait_until
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.template.decode import option
from imagesmith.ui import Ui

BUILDER_ID = "packer.post-processor.amazon-import"
FORMATS = ("ova", "raw", "vmdk", "vhd", "vhdx")
IMPORT_TRIES = 11


@dataclass(frozen=True)
class ImportConfig(AccessConfig):
    s3_bucket_name: str = option("")
    s3_key_name: str = option("", render=False)
    s3_encryption: str = option("")
    s3_encryption_key: str = option("")
    skip_clean: bool = option(False)
    tags: dict[str, str] = option(factory=dict)
    ami_name: str = option("")
    ami_description: str = option("")
    ami_users: list[str] = option(factory=list)
    ami_groups: list[str] = option(factory=list)
    ami_encrypt: bool = option(False)
    ami_kms_key: str = option("")
    license_type: str = option("")
    role_name: str = option("")
    format: str = option("")

    @property
    def image_format(self) -> str:
        return self.format or "ova"

    def check(self) -> Iterator[str]:
        if not self.region:
            yield "region must be specified"
        if bool(self.access_key) != bool(self.secret_key):
            yield "access_key and secret_key must both be set, or neither"
        if not self.s3_bucket_name:
            yield "s3_bucket_name must be set"
        if self.image_format not in FORMATS:
            yield f"invalid format '{self.format}'. Only 'ova', 'raw', 'vhd', 'vhdx', or 'vmdk' are allowed"
        if self.s3_encryption not in ("", "AES256", "aws:kms"):
            yield f"invalid s3 encryption format '{self.s3_encryption}'. Only 'AES256' and 'aws:kms' are allowed"


def import_params(cfg: ImportConfig, key: str) -> dict[str, Any]:
    """ImportImage's parameters, as Packer 1.6.6 sends them."""
    params: dict[str, Any] = {
        "Encrypted": cfg.ami_encrypt,
        "DiskContainers": [{"Format": cfg.image_format, "UserBucket": {"S3Bucket": cfg.s3_bucket_name, "S3Key": key}}],
    }
    if cfg.ami_encrypt and cfg.ami_kms_key:
        params["KmsKeyId"] = cfg.ami_kms_key
    if cfg.role_name:
        params["RoleName"] = cfg.role_name
    if cfg.license_type:
        params["LicenseType"] = cfg.license_type
    return params


def attribute_changes(cfg: ImportConfig) -> list[tuple[str, dict[str, Any]]]:
    changes: list[tuple[str, dict[str, Any]]] = []
    if cfg.ami_description:
        changes.append(("description", {"Description": {"Value": cfg.ami_description}}))
    if cfg.ami_groups:
        changes.append(("groups", {"UserGroups": list(cfg.ami_groups),
                                   "LaunchPermission": {"Add": [{"Group": g} for g in cfg.ami_groups]}}))  # fmt: skip
    if cfg.ami_users:
        changes.append(("users", {"UserIds": list(cfg.ami_users),
                                  "LaunchPermission": {"Add": [{"UserId": u} for u in cfg.ami_users]}}))  # fmt: skip
    return changes


class AmazonImportPostProcessor(PostProcessor):
    type_name = "amazon-import"
    config_class = ImportConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        cfg: ImportConfig = self.config
        data = {**artifact.generated_data, "BuildName": self.info.build_name, "BuilderType": self.info.builder_type}
        template = cfg.s3_key_name or "packer-import-{{timestamp}}." + cfg.image_format
        key = render_runtime(template, self.info, data, error="Error rendering s3_key_name template: ")
        source = next((f for f in artifact.files if f.endswith("." + cfg.image_format)), "")
        if not source:
            raise BuildError(f"No {cfg.image_format} image file found in artifact from builder")
        aws = Aws(cfg, await asyncio.to_thread(make_session, cfg))
        await self.upload(ui, aws, source, key)
        image = await self.run_import(ui, aws, key)
        image = await self.finish(ui, aws, image)
        if not cfg.skip_clean:
            ui.message(f"Deleting import source s3://{cfg.s3_bucket_name}/{key}")
            await aws.call("s3", "DeleteObject", Bucket=cfg.s3_bucket_name, Key=key)
        result = AmiArtifact({cfg.region: image}, aws, artifact.generated_data)
        result.builder_id = BUILDER_ID
        return PostProcessResult(result, keep=False)

    async def upload(self, ui: Ui, aws: Aws, source: str, key: str) -> None:
        cfg: ImportConfig = self.config
        if cfg.s3_encryption == "AES256" and cfg.s3_encryption_key:
            ui.message(f"Ignoring s3_encryption_key because s3_encryption is set to '{cfg.s3_encryption}'")
        ui.message(f"Uploading {source} to s3://{cfg.s3_bucket_name}/{key}")
        params: dict[str, Any] = {"Bucket": cfg.s3_bucket_name, "Key": key}
        if cfg.s3_encryption:
            params["ServerSideEncryption"] = cfg.s3_encryption
            if cfg.s3_encryption == "aws:kms" and cfg.s3_encryption_key:
                params["SSEKMSKeyId"] = cfg.s3_encryption_key
        with Path(source).open("rb") as body:
            try:
                await aws.call("s3", "PutObject", Body=body, **params)
            except AwsError as exc:
                raise BuildError(f"Failed to upload {source}: {exc}") from exc
        ui.message(f"Completed upload of {source} to s3://{cfg.s3_bucket_name}/{key}")

    async def run_import(self, ui: Ui, aws: Aws, key: str) -> str:
        """ImportImage (retried as Packer retries it), wait for the task; the imported AMI's id."""
        cfg: ImportConfig = self.config
        where = f"s3://{cfg.s3_bucket_name}/{key}"
        if cfg.license_type:
            ui.message(f"Setting license type to '{cfg.license_type}'")
        for attempt in range(1, IMPORT_TRIES + 1):
            try:
                started = await aws.call("ec2", "ImportImage", **import_params(cfg, key))
                break
            except AwsError as exc:
                if attempt == IMPORT_TRIES:
                    raise BuildError(f"Failed to start import from {where}: {exc}") from exc
                await asyncio.sleep(min(0.2 * attempt, 30.0))
        task = started["ImportTaskId"]
        ui.message(f"Started import of {where}, task id {task}")
        ui.message(f"Waiting for task {task} to complete (may take a while)")
        last: dict[str, Any] = {}

        async def probe() -> str:
            found = await aws.call("ec2", "DescribeImportImageTasks", ImportTaskIds=[task])
            last.update(found["ImportImageTasks"][0])
            return str(last.get("Status", ""))

        try:
            failed = frozenset({"deleted", "deleting"})
            limits = wait_limits(cfg.aws_polling)
            await wait_until(f"import task {task} to complete", probe, {"completed"}, failed=failed, limits=limits)
        except BuildError as exc:
            raise BuildError(f"Import task {task} failed with status message: {last.get('StatusMessage', '')}, "
                             f"error: {exc}") from exc  # fmt: skip
        ui.message(f"Import task {task} complete")
        return str(last["ImageId"])

    async def finish(self, ui: Ui, aws: Aws, image: str) -> str:
        """Rename (CopyImage) when ``ami_name`` is set, tag, set attributes; the final AMI's id."""
        cfg: ImportConfig = self.config
        if cfg.ami_name:
            ui.message(f"Starting rename of AMI ({image})")
            params: dict[str, Any] = {"Name": cfg.ami_name, "SourceImageId": image, "SourceRegion": cfg.region}
            if cfg.ami_encrypt:
                params["Encrypted"] = True
                if cfg.ami_kms_key:
                    params["KmsKeyId"] = cfg.ami_kms_key
            copied = (await aws.call("ec2", "CopyImage", **params))["ImageId"]
            ui.message("Waiting for AMI rename to complete (may take a while)")
            await wait_until(f"AMI {copied} to be available", lambda: self.image_state(aws, copied), {"available"},
                             failed=frozenset({"failed"}), limits=wait_limits(cfg.aws_polling))  # fmt: skip
            ui.message("Destroying intermediary AMI...")
            await delete_image_with(aws, cfg.region, image)
            ui.message("AMI rename completed")
            image = copied
        if cfg.tags:
            found = await aws.call("ec2", "DescribeImages", ImageIds=[image])
            resources = [image, *snapshots_of(found["Images"][0])]
            ui.message(f"Tagging AMI {image}")
            await aws.call("ec2", "CreateTags", Resources=resources, Tags=to_api_tags(cfg.tags))
        for name, change in attribute_changes(cfg):
            ui.message(f"Modifying: {name}")
            await aws.call("ec2", "ModifyImageAttribute", ImageId=image, **change)
        return image

    @staticmethod
    async def image_state(aws: Aws, image: str) -> str:
        images = (await aws.call("ec2", "DescribeImages", ImageIds=[image]))["Images"]
        return str(images[0]["State"]) if images else "missing"

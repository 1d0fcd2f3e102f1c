"""The docker builder's configuration: Packer 1.6.6's keys and defaults (``builder/docker/config.go``).

``run_command`` is not rendered when the template is prepared: it is rendered when the container
starts, with ``{{.Image}}`` set to ``image`` (Packer's ``InterpolateFilter.Exclude``).
``platform`` is an imagesmith addition (``--platform`` for pull and run); Packer 1.6.6 lacks it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from imagesmith.template.decode import option
from imagesmith.template.values import Duration

DEFAULT_RUN_COMMAND = ("-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}")
WINDOWS_RUN_COMMAND = ("-d", "-i", "-t", "--entrypoint=powershell", "--", "{{.Image}}")
COMMUNICATORS = ("docker", "dockerWindowsContainer", "none")


@dataclass(frozen=True)
class DockerLoginConfig:
    """Registry login options, shared by the docker builder and docker-push (Packer's LoginConfig)."""

    login: bool = option(False)
    login_username: str = option("")
    login_password: str = option("")
    login_server: str = option("")
    ecr_login: bool = option(False)
    aws_access_key: str = option("")
    aws_secret_key: str = option("")
    aws_token: str = option("")
    aws_profile: str = option("")

    def login_problems(self) -> Iterator[str]:
        if self.ecr_login and not self.login_server:
            yield "ECR login requires login server to be provided."
        if self.ecr_login:
            yield "ecr_login is not supported by imagesmith (no AWS access here); log in with docker login first"


@dataclass(frozen=True)
class DockerConfig(DockerLoginConfig):
    """One ``"type": "docker"`` builder block."""

    image: str = option("", doc="base image; pulled first unless pull is false")
    pull: bool = option(True)
    commit: bool = option(False)
    export_path: str = option("")
    discard: bool = option(False)
    changes: list[str] = option(factory=list, doc="Dockerfile instructions applied by docker commit")
    author: str = option("")
    message: str = option("")
    run_command: list[str] = option(factory=list, render=False)
    volumes: dict[str, str] = option(factory=dict)
    privileged: bool = option(False)
    cap_add: list[str] = option(factory=list)
    cap_drop: list[str] = option(factory=list)
    device: list[str] = option(factory=list)
    tmpfs: list[str] = option(factory=list)
    container_dir: str = option("")
    exec_user: str = option("")
    fix_upload_owner: bool = option(True)
    windows_container: bool = option(False)
    platform: str = option("")
    communicator: str = option("")
    pause_before_connecting: Duration = option(Duration(0))
    pty: bool = option(False)

    def check(self) -> Iterator[str]:
        """Packer's cross-field rules, every one reported."""
        if self.communicator and self.communicator not in COMMUNICATORS:
            yield f"communicator {self.communicator!r} is not supported by the docker builder (use docker or none)"
        if not self.image:
            yield "Image must be specified"
        used = [bool(self.export_path), self.commit, self.discard]
        if sum(used) > 1:
            yield "Cannot specify more than one of commit, discard, and export_path"
        if not any(used):
            yield "No instructions given for handling the artifact; expected commit, discard, or export_path"
        if self.export_path and os.path.isdir(self.export_path):
            yield "export_path must be a file, not a directory"
        if self.windows_container:
            yield "windows_container is not supported by imagesmith (it needs a Windows Docker host)"
        yield from self.login_problems()

    @property
    def effective_run_command(self) -> list[str]:
        """``run_command``, or Packer's default for the container kind."""
        if self.run_command:
            return list(self.run_command)
        return list(WINDOWS_RUN_COMMAND if self.windows_container else DEFAULT_RUN_COMMAND)

    @property
    def effective_container_dir(self) -> str:
        if self.container_dir:
            return self.container_dir
        return "c:/packer-files" if self.windows_container else "/packer-files"

    @property
    def communicator_type(self) -> str:
        if self.communicator:
            return self.communicator
        return "dockerWindowsContainer" if self.windows_container else "docker"

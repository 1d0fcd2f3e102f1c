"""What the docker builder's steps hand each other."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from imagesmith.builders.docker.config import DockerConfig
from imagesmith.builders.docker.driver import Driver
from imagesmith.communicator.docker import DockerCommunicator
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildContext


@dataclass
class DockerState:
    config: DockerConfig
    driver: Driver
    ctx: BuildContext
    temp_dir: str = ""
    container_id: str = ""
    container_name: str = field(default_factory=lambda: f"imagesmith-{secrets.token_hex(6)}")
    communicator: DockerCommunicator | None = None
    image_id: str = ""
    layer_image: str = ""  # a cached layer's image to start from instead of config.image (docs/layers.md)
    export_written: bool = False  # export_path was (being) written by this build
    generated: GeneratedData = field(default_factory=GeneratedData)

"""The docker builder (Packer 1.6.6 ``builder/docker``)."""

from imagesmith.builders.docker.builder import DockerBuilder

PLUGIN = DockerBuilder

"""Type ``amazon-ebs``: the builder lives in :mod:`imagesmith.builders.amazon`."""

from imagesmith.builders.amazon.builder import AmazonEbsBuilder

PLUGIN = AmazonEbsBuilder

"""The docker builder (Packer 1.6.6 ``builder/docker``)."""

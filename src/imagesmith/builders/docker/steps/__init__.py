"""The docker builder's steps, in the order Packer runs them (``builder/docker/builder.go``)."""

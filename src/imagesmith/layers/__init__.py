"""Provisioner layers: resume a failed build, rebuild only what changed (docs/layers.md).

A build is a chain of layers: layer 0 is the builder's machine just before the first
provisioner, layer k the machine after provisioner k. :mod:`.keys` names each layer by a hash of
everything that determines it, :mod:`.store` keeps entries under ``IMAGESMITH_CACHE_DIR``,
:mod:`.support` is the seam a builder implements (snapshot, restore), and :mod:`.session` runs a
build's provisioners starting from the deepest cached layer.
"""

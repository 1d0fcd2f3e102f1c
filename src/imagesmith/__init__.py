"""imagesmith: build identical machine images from one Packer-compatible template."""

__version__ = "0.1.0"

#: The Packer release whose JSON templates and behaviour imagesmith follows. Templates with
#: ``min_packer_version`` are checked against this, and ``{{packer_version}}`` renders it.
PACKER_COMPAT_VERSION = "1.6.6"

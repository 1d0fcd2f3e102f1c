"""The virtualbox builders' steps, one Packer step per module."""

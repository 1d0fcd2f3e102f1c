"""The qemu builder's steps, one per module, in Packer's order (see ``builder.py``)."""

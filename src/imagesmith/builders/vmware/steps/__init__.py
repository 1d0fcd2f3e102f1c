"""The vmware builders' steps, one per module, in Packer's order (see ``iso_builder.py``)."""

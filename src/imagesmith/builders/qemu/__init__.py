"""The ``qemu`` builder (Packer 1.6.6's ``builder/qemu``)."""

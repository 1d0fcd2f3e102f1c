"""Packer HCL2 configuration decoded into a model (not wired into the build path yet)."""

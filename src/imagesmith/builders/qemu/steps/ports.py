"""qemu's port picking is the shared one: :mod:`imagesmith.core.ports`."""

from imagesmith.core.ports import pick_port, release_port

__all__ = ["pick_port", "release_port"]

"""Whether a path names HCL2 configuration, without importing the HCL2 machinery (JSON templates stay fast)."""

from __future__ import annotations

from pathlib import Path


def is_hcl2(path: str) -> bool:
    """Whether ``path`` names HCL2 configuration: a ``*.pkr.hcl``/``*.pkr.json`` file or a directory."""
    return path.endswith((".pkr.hcl", ".pkr.json")) or (path != "-" and Path(path).is_dir())

"""imagesmith: build identical machine images from one Packer-compatible template.

The Python API (docs/api.md) is importable from here: ``imagesmith.validate``, ``imagesmith.inspect``,
``imagesmith.build``, ``imagesmith.build_async`` and ``imagesmith.BuildFailed``. They are loaded on
first use, so importing imagesmith (and starting the command line) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: The Packer release whose JSON templates and behaviour imagesmith follows. Templates with
#: ``min_packer_version`` are checked against this, and ``{{packer_version}}`` renders it.
PACKER_COMPAT_VERSION = "1.6.6"

if TYPE_CHECKING:
    from imagesmith.api import BuildFailed, Inspection, build, build_async, inspect, validate
    from imagesmith.errors import ImagesmithError, TemplateError

_API = {"validate", "inspect", "build", "build_async", "BuildFailed", "Inspection"}
_ERRORS = {"ImagesmithError", "TemplateError"}
__all__ = [
    "PACKER_COMPAT_VERSION",
    "BuildFailed",
    "ImagesmithError",
    "Inspection",
    "TemplateError",
    "__version__",
    "build",
    "build_async",
    "inspect",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        from imagesmith import api

        return getattr(api, name)
    if name in _ERRORS:
        from imagesmith import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'imagesmith' has no attribute {name!r}")

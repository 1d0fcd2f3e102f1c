"""Uploads the docker communicator holds back to send as one tar stream (``defer_uploads``).

Every ``PUT /containers/{id}/archive`` costs the daemon a ``docker-untar`` process (60–100 ms here,
whatever the size), so consecutive ``file`` provisioners that upload into the same container
directory are sent as one stream: the same entries, headers and order as their separate streams,
extracted by one request (docs/differences.md, "docker: consecutive uploads").
"""

from __future__ import annotations

import posixpath
from collections.abc import AsyncIterator

from imagesmith.communicator.docker_tar import FilePart, TreePart, tar_parts, tar_single


class UploadBatch:
    """Parts to extract into ``target``, in order; ``dsts`` are the destinations the user named."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.parts: list[FilePart | TreePart] = []
        self.dsts: list[str] = []

    def add(self, part: FilePart | TreePart, dst: str) -> None:
        self.parts.append(part)
        self.dsts.append(dst)

    def touches(self, path: str) -> bool:
        """Whether extracting the batch may create or change ``path`` (or a directory above it)."""
        path = posixpath.normpath(path)
        for part in self.parts:
            name = part.info.name if isinstance(part, FilePart) else part.prefix
            # no name: a directory's contents straight into target, so anything below target
            top = posixpath.normpath(posixpath.join(self.target, name) if name else self.target)
            if path == top or path.startswith(top.rstrip("/") + "/"):
                return True
        return False

    def stream(self) -> AsyncIterator[bytes]:
        """The tar stream: a single file's exactly as it is sent alone, else one archive of every part."""
        if len(self.parts) == 1 and isinstance(self.parts[0], FilePart):
            return tar_single(self.parts[0].info, self.parts[0].payload)
        return tar_parts(self.parts)

"""A communicator that reaches no machine (Packer's ``none`` communicator and ``MockCommunicator``).

Commands "succeed" without running (exit status 0), so provisioners that run nothing remote
(``shell-local``, ``breakpoint``) work. Transfers fail with Packer's "not implemented when
communicator = 'none'" errors, unless ``accept_transfers`` is set: then they do nothing and
succeed, as the ``MockCommunicator`` Packer's file builder provisions through.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from imagesmith.core.plugin import Communicator, LineCallback
from imagesmith.errors import BuildError


class NoneCommunicator(Communicator):
    def __init__(self, *, accept_transfers: bool = False) -> None:
        self.accept_transfers = accept_transfers

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        return 0

    def _transfer(self, what: str) -> None:
        if not self.accept_transfers:
            raise BuildError(f"{what} is not implemented when communicator = 'none'")

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        self._transfer("Upload")

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        self._transfer("UploadDir")

    async def download(self, src: str, dst: Path) -> None:
        self._transfer("Download")

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        self._transfer("DownloadDir")

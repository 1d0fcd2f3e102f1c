"""StepDownloadGuestAdditions, StepUploadVersion and StepUploadGuestAdditions.

The guest additions ISO is the host's (``list systemproperties``) unless ``guest_additions_url``
names one (rendered with ``{{ .Version }}``, fetched and checked against ``guest_additions_sha256``).
Unlike Packer, imagesmith does not fall back to download.virtualbox.org when the host has none:
the build fails and says so (builds here never reach the internet).
"""

from __future__ import annotations

from pathlib import Path

from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.render import go_struct, render_runtime
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError
from imagesmith.steps.download import Downloader


async def vbox_version(state: VBoxState) -> str:
    try:
        return await state.driver.version()
    except ToolError as exc:
        raise fail(f"Error reading version for guest additions download: {exc}") from exc


class FindGuestAdditions(Step[VBoxState]):
    @property
    def name(self) -> str:
        return "StepDownloadGuestAdditions"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        version = await vbox_version(state)
        if cfg.guest_additions_url:
            data = go_struct("*common.guestAdditionsUrlTemplate", Version=version)
            url = render_runtime(cfg.guest_additions_url, state.ctx.info, data,
                                 error="Error preparing guest additions url: ")  # fmt: skip
            checksum = f"sha256:{cfg.guest_additions_sha256}" if cfg.guest_additions_sha256 else "none"
            path = await Downloader(state.ctx.ui, "guest additions").fetch([url], checksum, extension="iso")
            state.guest_additions_iso = str(path)
            return
        try:
            found = await state.driver.guest_additions_iso()
        except ToolError as exc:
            raise fail(f"Error reading the guest additions ISO's path: {exc}") from exc
        if not found:
            raise fail(
                'Cannot find "Default Guest Additions ISO" in vboxmanage output (or it is empty); set '
                "guest_additions_url (imagesmith does not download it from download.virtualbox.org)"
            )
        state.guest_additions_iso = found


class UploadVersion(Step[VBoxState]):
    """Write VirtualBox's version to ``virtualbox_version_file`` in the guest."""

    @property
    def name(self) -> str:
        return "StepUploadVersion"

    async def run(self, state: VBoxState) -> None:
        assert state.communicator is not None
        version = await vbox_version(state)
        path = state.config.virtualbox_version_file or ""
        state.ctx.ui.say(f"Uploading VirtualBox version info ({version})")
        await state.communicator.upload(path, version.encode())


class UploadGuestAdditions(Step[VBoxState]):
    @property
    def name(self) -> str:
        return "StepUploadGuestAdditions"

    async def run(self, state: VBoxState) -> None:
        assert state.communicator is not None
        version = await vbox_version(state)
        data = go_struct("*common.guestAdditionsPathTemplate", Version=version)
        path = render_runtime(state.config.guest_additions_path, state.ctx.info, data,
                              error="Error preparing guest additions path: ")  # fmt: skip
        state.ctx.ui.say("Uploading VirtualBox guest additions ISO...")
        await state.communicator.upload(path, Path(state.guest_additions_iso))

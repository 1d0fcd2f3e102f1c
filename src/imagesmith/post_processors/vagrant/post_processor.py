"""The ``vagrant`` post-processor: turn a qemu or docker artifact into a Vagrant box.

Packer 1.6.6 behaviour kept: the provider comes from ``provider_override`` or the input's
builder id (``Unknown artifact type, can't build box: <id>`` otherwise); ``override.<provider>``
options apply; ``output`` is rendered with the artifact's generated data plus ``ArtifactId``,
``BuildName`` and ``Provider``; ``include`` files go in by base name (an included
``metadata.json`` wins, an included ``Vagrantfile`` or ``box.img`` is replaced); the
``vagrantfile_template`` is rendered with the same data and appended to the provider's
Vagrantfile; the input is not kept by default and the user cannot override that to false
(defaultKeep from the provider, forceOverride true).

Differences: members are streamed from their sources instead of copied to a temporary
directory first; no dummy box is written beforehand; the box appears only once complete; a
qemu artifact whose files lack the disk is an error (Packer writes a box without box.img);
only the libvirt, docker, virtualbox and vmware providers are implemented.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from typing import Any

from imagesmith.core.artifact import FileArtifact
from imagesmith.core.plugin import Artifact, PostProcessor, PostProcessResult
from imagesmith.core.render import render_runtime
from imagesmith.errors import BuildError
from imagesmith.post_processors.vagrant.box import Member, encode_metadata, make_vagrantfile, order_members
from imagesmith.post_processors.vagrant.config import (
    PROVIDER_OF_BUILDER,
    VagrantConfig,
    specific_config,
)
from imagesmith.post_processors.vagrant.providers import PROVIDERS
from imagesmith.ui import Ui

BUILDER_ID = "mitchellh.post-processor.vagrant"


class Vagrant(PostProcessor):
    """Package the input artifact as a Vagrant box for its provider."""

    type_name = "vagrant"
    config_class = VagrantConfig
    config: VagrantConfig

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        provider = self.config.provider_override or PROVIDER_OF_BUILDER.get(artifact.builder_id)
        if not provider:
            raise BuildError(f"Unknown artifact type, can't build box: {artifact.builder_id}")
        make_box = PROVIDERS.get(provider)
        if make_box is None:
            raise BuildError(
                f"imagesmith cannot make '{provider}' provider boxes (it makes: {', '.join(sorted(PROVIDERS))})"
            )
        config = specific_config(self.config, provider, self._render_plain)
        ui.say(f"Creating Vagrant box for '{provider}' provider")
        data = self._box_data(artifact, provider)
        output = self._render(config.output_template, data, "output")
        members = self._include(ui, config)
        box = make_box(ui, artifact)
        try:
            members.update({name: Member(name, source=path) for name, path in box.files.items()})
            members.setdefault("metadata.json", Member("metadata.json", data=encode_metadata(box.metadata)))
            custom = self._custom_vagrantfile(ui, config, data)
            members["Vagrantfile"] = Member("Vagrantfile", data=make_vagrantfile(box.vagrantfile, custom).encode())
            await self._write(ui, order_members(members), output, config.level)
        finally:
            if box.temp_dir:
                await asyncio.to_thread(shutil.rmtree, box.temp_dir, True)
        result = FileArtifact(
            BUILDER_ID,
            [output],
            artifact_id=provider,
            description=f"'{provider}' provider box: {output}",
            state={"provider": provider},
        )
        return PostProcessResult(result, keep=box.keep_input, force_override=True)

    def _box_data(self, artifact: Artifact, provider: str) -> dict[str, Any]:
        return {
            **artifact.generated_data,
            "ArtifactId": artifact.id,
            "BuildName": self.info.build_name,
            "Provider": provider,
        }

    def _render(self, text: str, data: Mapping[str, Any] | None, what: str) -> str:
        return render_runtime(text, self.info, data, error=f"Error rendering {what}: ")

    def _render_plain(self, text: str) -> str:
        return self._render(text, None, "override")

    def _include(self, ui: Ui, config: VagrantConfig) -> dict[str, Member]:
        members: dict[str, Member] = {}
        for src in config.include:
            ui.message(f"Copying from include: {src}")
            if not os.path.isfile(src):
                why = "is a directory" if os.path.isdir(src) else "no such file"
                raise BuildError(f"Error copying include file: {src}\n\n{src}: {why}")
            name = os.path.basename(src)
            members[name] = Member(name, source=src)
        return members

    def _custom_vagrantfile(self, ui: Ui, config: VagrantConfig, data: Mapping[str, Any]) -> str:
        if not config.vagrantfile_template:
            return ""
        ui.message(f"Using custom Vagrantfile: {config.vagrantfile_template}")
        try:
            with open(config.vagrantfile_template, encoding="utf-8", errors="surrogateescape") as src:
                text = src.read()
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise BuildError(f"open {config.vagrantfile_template}: {why[:1].lower()}{why[1:]}") from exc
        return self._render(text, data, "vagrantfile_template")

    async def _write(self, ui: Ui, members: list[Member], output: str, level: int) -> None:
        from imagesmith.compression import CompressionCancelled, count_threads, run_cancellable
        from imagesmith.post_processors.vagrant.box import write_box

        loop = asyncio.get_running_loop()

        def announce(name: str) -> None:
            loop.call_soon_threadsafe(ui.message, f"Compressing: {name}")

        total = sum(_size(member) for member in members)
        threads = count_threads()
        with ui.progress(f"Compressing {os.path.basename(output)}", total) as bar:
            try:
                await run_cancellable(
                    lambda cancel: write_box(
                        members, output, level, progress=bar.advance, announce=announce, cancel=cancel, threads=threads
                    )
                )
            except ValueError as exc:
                raise BuildError(str(exc)) from exc
            except CompressionCancelled as exc:  # pragma: no cover - only when cancelled from elsewhere
                raise asyncio.CancelledError() from exc
            except OSError as exc:
                raise BuildError(f"Failed to write the box {output}: {exc}") from exc
        await asyncio.sleep(0)  # let the last "Compressing:" messages out before what follows


def _size(member: Member) -> int:
    try:
        return member.size()
    except OSError:
        return 0


__all__ = ["BUILDER_ID", "Vagrant"]

"""stepCreateDisk, stepCopyDisk, stepResizeDisk: the VM's disks in ``output_directory``."""

from __future__ import annotations

from imagesmith.builders.qemu.driver import make_convert_args, make_create_args, make_resize_args
from imagesmith.builders.qemu.state import QemuState
from imagesmith.core.steps import Step


class CreateDisk(Step[QemuState]):
    """``qemu-img create`` the main disk (or a backing-file overlay) and ``disk_additional_size`` disks."""

    @property
    def name(self) -> str:
        return "stepCreateDisk"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        disks: list[str] = []
        if cfg.disk_image and cfg.use_backing_file:
            fmt = await state.driver.image_format(state.iso_path)
            ui.say("Creating required virtual machine disks")
            argv = make_create_args(cfg, state.disk_path, cfg.disk_size, backing=state.iso_path, backing_format=fmt)
            await state.driver.qemu_img(argv, "qemu-img create")
            disks.append(state.disk_path)
        elif not cfg.disk_image:
            ui.say("Creating required virtual machine disks")
            await state.driver.qemu_img(make_create_args(cfg, state.disk_path, cfg.disk_size), "qemu-img create")
            disks.append(state.disk_path)
        else:
            disks.append(state.disk_path)  # copied by CopyDisk
        for i, size in enumerate(cfg.disk_additional_size, start=1):
            path = f"{state.disk_path}-{i}"
            await state.driver.qemu_img(make_create_args(cfg, path, size), "qemu-img create")
            disks.append(path)
        state.disk_paths = disks


class CopyDisk(Step[QemuState]):
    """``disk_image`` without ``use_backing_file``: convert the source image into the output directory."""

    @property
    def name(self) -> str:
        return "stepCopyDisk"

    async def run(self, state: QemuState) -> None:
        state.ctx.ui.say("Copying hard drive...")
        argv = make_convert_args(state.config, state.iso_path, state.disk_path, compress=False)
        await state.driver.qemu_img(argv, "qemu-img convert")


class ResizeDisk(Step[QemuState]):
    """``qemu-img resize`` a ``disk_image`` to ``disk_size``."""

    @property
    def name(self) -> str:
        return "stepResizeDisk"

    async def run(self, state: QemuState) -> None:
        state.ctx.ui.say(f"Resizing hard drive to {state.config.disk_size}...")
        await state.driver.qemu_img(make_resize_args(state.config, state.disk_path), "qemu-img resize")


class ConvertDisk(Step[QemuState]):
    """stepConvertDisk: ``qemu-img convert [-c]`` into ``<disk>.convert``, then rename over the disk."""

    @property
    def name(self) -> str:
        return "stepConvertDisk"

    async def run(self, state: QemuState) -> None:
        import os

        cfg = state.config
        target = state.disk_path + ".convert"
        state.ctx.ui.say("Converting hard drive...")
        try:
            source = state.layer.top or state.disk_path  # a layered build's disk is an overlay chain
            argv = make_convert_args(cfg, source, target, compress=cfg.disk_compression)
            await state.driver.qemu_img(argv, "qemu-img convert")
            os.replace(target, state.disk_path)
            state.layer.top = ""
        finally:
            if os.path.exists(target):
                os.unlink(target)

"""``imagesmith version``: the Packer version imagesmith is compatible with, and its own."""

from __future__ import annotations

import argparse
import sys

from imagesmith import PACKER_COMPAT_VERSION, __version__


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(options: argparse.Namespace) -> int:
    if options.machine_readable:
        from imagesmith.ui import MachineReadableUi

        ui = MachineReadableUi(sys.stdout)
        ui.machine("version", PACKER_COMPAT_VERSION)
        ui.machine("version-prelease", "")
        ui.machine("version-commit", "")
        ui.machine("ui", "say", f"Packer v{PACKER_COMPAT_VERSION}")
        return 0
    print(f"Packer v{PACKER_COMPAT_VERSION} (imagesmith {__version__})")
    return 0

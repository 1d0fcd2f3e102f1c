"""The test guest's unchanged Packer template, plus a checksum post-processor whose ``output`` uses
``{{template_dir}}``, ``{{.BuildName}}`` and ``{{.ChecksumType}}``: the build succeeds and writes the
checksum of the disk where Packer 1.6.6 writes it (the run-time render of post-processor fields had no
template path before, so this build made the disk and then failed with "template path not available").

One qemu build; the template directory (template, http/, provision/) is copied to a temporary one so
``{{template_dir}}/out`` lands there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.integration.test_guest_packer import GUEST, guest_iso, run_build  # noqa: F401 (guest_iso: a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHECKSUM = {"type": "checksum", "output": "{{template_dir}}/out/{{.BuildName}}.{{.ChecksumType}}.checksum"}


@pytest.mark.timeout(900)
@pytest.mark.usefixtures("guest_iso")
def test_checksum_output_with_template_dir_after_a_qemu_build(need_qemu: None, tmp_path: Path) -> None:
    guest = tmp_path / "guest"
    shutil.copytree(GUEST / "provision", guest / "provision")
    (guest / "http").mkdir(parents=True)
    shutil.copy(GUEST / "http" / "ks.cfg", guest / "http" / "ks.cfg")
    template = json.loads((GUEST / "packer-qemu.json").read_text())
    template["post-processors"] = [CHECKSUM]
    (guest / "packer-qemu.json").write_text(json.dumps(template, indent=2))
    argv = [sys.executable, "-m", "imagesmith", "build", "-color=false"]
    variables = {"output_directory": tmp_path / "disk", "download_dir": tmp_path, "serial": "file:/dev/null"}
    for name, value in variables.items():
        argv += ["-var", f"{name}={value}"]
    proc, timeline = run_build([*argv, str(guest / "packer-qemu.json")], tmp_path, "imagesmith")
    assert proc.returncode == 0, f"imagesmith build failed:\n{timeline.text()}"
    disk = tmp_path / "disk" / "test-guest.qcow2"
    checksum = guest / "out" / "qemu.md5.checksum"
    assert checksum.read_text() == f"{hashlib.md5(disk.read_bytes()).hexdigest()}\ttest-guest.qcow2\n"
    assert "error calling template_dir" not in timeline.text()

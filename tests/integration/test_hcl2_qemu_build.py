"""``imagesmith build`` of an HCL2 template with a qemu source: the test guest installed from its ISO
(TCG), over HTTP and SSH, a shell provisioner run inside it, a checksum post-processor on the disk.

The same settings as tests/integration/test_qemu_build.py's JSON-path build, written as current
Packer writes them: variables, a local, ``source``/``build`` blocks, ``build.*`` values filled at
run time. One test (slow under TCG)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..conftest import require_tool, run_cli
from .test_qemu_build import HTTP_DIR, ISO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEMPLATE = """
variable "root_password" {
  type      = string
  default   = "packer"
  sensitive = true
}

locals {
  vm_name = "guest-${var.disk_size}.qcow2"
}

variable "disk_size" {
  type    = string
  default = "512M"
}

source "qemu" "guest" {
  iso_url          = "%(iso)s"
  iso_checksum     = "file:%(iso)s.sha256"
  output_directory = "${path.root}/out"
  vm_name          = local.vm_name
  disk_size        = var.disk_size
  accelerator      = "tcg"
  headless         = true
  http_directory   = "%(http)s"
  boot_wait        = "20s" # the prompt waits forever; keys typed before it shows are lost
  boot_command     = ["<esc><wait>install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
  ssh_username     = "root"
  ssh_password     = var.root_password
  ssh_timeout      = "15m"
  shutdown_command = "shutdown -h now"
  shutdown_timeout = "5m"
  qemuargs         = [["-serial", "file:${path.root}/serial.log"]]
}

build {
  sources = ["source.qemu.guest"]

  provisioner "shell" {
    inline = ["echo ${source.type}-${source.name} on ${build.Host} > /root/mark", "cat /root/mark"]
  }

  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "${path.root}/out/{{.ChecksumType}}.sum"
  }
}
"""


@pytest.mark.timeout(1900)
def test_hcl2_qemu_build_installs_provisions_and_checksums(tmp_path: Path, need_qemu: None) -> None:
    require_tool(ISO.exists(), f"needs the test guest ISO {ISO} (scripts/fixtures/test-guest-iso.sh)")
    template = tmp_path / "guest.pkr.hcl"
    template.write_text(TEMPLATE % {"iso": ISO, "http": HTTP_DIR})
    assert run_cli("validate", str(template), cwd=tmp_path).returncode == 0
    done = run_cli("build", str(template), cwd=tmp_path, timeout=1800)
    output = done.stdout + done.stderr
    serial = (tmp_path / "serial.log").read_text(errors="replace")[-3000:] if (tmp_path / "serial.log").exists() else ""
    assert done.returncode == 0, output + "\nserial:\n" + serial
    disk = tmp_path / "out" / "guest-512M.qcow2"
    assert disk.is_file(), output
    assert "qemu-guest on 127.0.0.1" in output  # source.* and build.Host reached the guest
    assert "Build 'qemu.guest' finished" in output, output
    check = subprocess.run(["qemu-img", "check", str(disk)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    sums = (tmp_path / "out" / "sha256.sum").read_text()
    assert "guest-512M.qcow2" in sums
    # nothing left behind: no qemu of this run still running
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert not [line for line in procs.splitlines() if "qemu-system" in line and str(tmp_path) in line]

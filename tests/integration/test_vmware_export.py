"""``format: ovf``/``ova`` against the stand-in ``ovftool`` (tests/standins/vmware/ovftool),
side by side with Packer 1.6.6: the same template built by both (record-mode ``vmrun``,
``communicator: none``), then compared: the recorded ovftool command lines, the files left in
each output directory, and the packages' contents (descriptor, manifest, streamOptimized disk).
Also the two failures Packer reports: no ovftool on PATH (before any step) and ovftool failing
(the output directory removed). Stand-in only: no VMware product is involved.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.integration.vmware_support import (
    TEST_ISO,
    imagesmith_build,
    ovftool_calls,
    packer_build,
    path_without,
    require_vmware_standin,
)

pytestmark = [pytest.mark.integration, pytest.mark.compat, pytest.mark.slow]

BASE: dict[str, Any] = {"type": "vmware-iso", "iso_url": str(TEST_ISO), "iso_checksum": "none", "disk_size": 64,
                        "communicator": "none", "headless": True, "boot_wait": "0s", "disable_vnc": True}  # fmt: skip
CASES: dict[str, dict[str, Any]] = {
    "ovf": {"format": "ovf", "ovftool_options": ["--compress=9", "--shaAlgorithm=SHA1"]},
    "ova": {"format": "ova", "output_directory": "./nested/../out-ova/", "disk_additional_size": [8]},
    "vmx-skip": {"format": "ova", "skip_export": True},
}


def template(cases: dict[str, dict[str, Any]]) -> str:
    builders = [{**BASE, "name": name, "output_directory": f"out-{name}", **extra} for name, extra in cases.items()]
    return json.dumps({"builders": builders}, indent=1)


def both(tmp_path_factory: pytest.TempPathFactory, text: str, label: str,
         env_extra: Any = None) -> dict[str, tuple[Path, str, int]]:  # fmt: skip
    """Run Packer and imagesmith on ``text``: tool → (work dir, output, exit status)."""
    from tests.conftest import packer_available, require_tool

    require_vmware_standin()
    require_tool(packer_available(), "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    found = {}
    for tool, build in (("packer", packer_build), ("imagesmith", imagesmith_build)):
        work = tmp_path_factory.mktemp(f"{label}-{tool}")
        (work / "template.json").write_text(text)
        extra = env_extra(work) if callable(env_extra) else None
        result = build(work, "template.json", env_extra=extra)  # type: ignore[operator]
        found[tool] = (work, result.stdout + result.stderr, result.returncode)
    return found


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, int]]:
    return both(tmp_path_factory, template(CASES), "export")


def test_ovftool_command_lines_are_packers(builds: dict[str, tuple[Path, str, int]]) -> None:
    calls = {tool: sorted(ovftool_calls(work)) for tool, (work, _, _) in builds.items()}
    assert calls["packer"], builds["packer"][1][-3000:]
    assert calls["imagesmith"] == calls["packer"]
    expected = ["--compress=9", "--shaAlgorithm=SHA1", "out-ovf/packer-ovf.vmx", "out-ovf/packer-ovf.ovf"]
    assert expected in calls["packer"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_files_are_packers(builds: dict[str, tuple[Path, str, int]], case: str) -> None:
    names = {}
    for tool, (work, output, _) in builds.items():
        out = work / f"out-{case}"
        assert out.is_dir(), output[-3000:]
        names[tool] = sorted(p.name for p in out.iterdir())
    assert names["imagesmith"] == names["packer"]
    suffix = {"ovf": ".ovf", "ova": ".ova", "vmx-skip": ".vmx"}[case]
    assert any(name.endswith(suffix) for name in names["packer"])


def package_summary(out: Path, case: str) -> list[str]:
    """The package's members (name, manifest line shape) and its disks' format and size."""
    if case == "ova":
        with tarfile.open(out / "packer-ova.ova") as tar:
            members = tar.getnames()
            tar.extractall(out.parent / "unpacked-ova", filter="data")
        where = out.parent / "unpacked-ova"
    else:
        where = out
        members = sorted(p.name for p in out.iterdir() if p.suffix in (".ovf", ".mf") or "-disk" in p.name)
    summary = [f"members: {members}"]
    manifest = (where / f"packer-{case}.mf").read_text().splitlines()
    summary += [re.sub(r"= [0-9a-f]+$", "= <digest>", line) for line in manifest]
    for disk in sorted(where.glob("*-disk*.vmdk")):
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(disk)], capture_output=True,
                                         text=True, check=True).stdout)  # fmt: skip
        summary.append(f"{disk.name}: {info['format-specific']['data']['create-type']} {info['virtual-size']}")
    return summary


@pytest.mark.parametrize("case", ["ovf", "ova"])
def test_packages_hold_what_packers_hold(builds: dict[str, tuple[Path, str, int]], case: str) -> None:
    found = {tool: package_summary(work / f"out-{case}", case) for tool, (work, _, _) in builds.items()}
    assert found["imagesmith"] == found["packer"]
    assert any("streamOptimized" in line for line in found["packer"])


def test_skipped_export_says_so_like_packer(builds: dict[str, tuple[Path, str, int]]) -> None:
    for tool, (_, output, status) in builds.items():
        assert status == 0, output[-3000:]
        assert "Skipping export of virtual machine..." in output, tool


def test_missing_ovftool_is_packers_error_before_any_step(tmp_path_factory: pytest.TempPathFactory) -> None:
    found = both(tmp_path_factory, template({"ovf": CASES["ovf"]}), "no-ovftool",
                 lambda work: {"PATH": path_without(work, "ovftool")})  # fmt: skip
    for tool, (work, output, status) in found.items():
        assert status != 0, output
        assert "Couldn't find ovftool in path! Please either set `skip_export = true`" in output, (tool, output)
        assert not (work / "out-ovf").exists()
        assert "Traceback" not in output


def test_failing_ovftool_is_reported_and_leaves_no_output(tmp_path_factory: pytest.TempPathFactory) -> None:
    found = both(tmp_path_factory, template({"ova": CASES["ova"]}), "bad-ovftool",
                 lambda work: {"VMWARE_STANDIN_FAIL": "ovftool"})  # fmt: skip
    for tool, (work, output, status) in found.items():
        assert status != 0, output
        assert (
            "Error performing ovftool export: VMware error: Error: Failed to export: stand-in failure injected"
            in output
        ), (tool, output[-3000:])
        assert not (work / "out-ova").exists()
        assert "Traceback" not in output
    assert "command: ovftool out-ova/packer-ova.vmx out-ova/packer-ova.ova" in found["imagesmith"][1]

"""``imagesmith fix`` against ``packer fix`` (1.6.6), byte for byte on stdout, and exit codes.

Every input of the fixer table tests (tests/unit/test_fix_fixers.py) plus some JSON-encoding and
odd-shape inputs go through both CLIs with ``-validate=false`` (imagesmith's CLI entry point runs
them all in one process, Packer runs in parallel threads, so this takes a few seconds); the
fixtures command/fix and command/fix-invalid go through both as real processes, validation on;
every JSON file of the Packer 1.6.6 fixtures and 200 seeded random legacy templates are compared
too. Where Packer 1.6.6 panics (exit 2), imagesmith must only answer without a traceback.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_packer
from tests.unit.test_fix_fixers import CASES

pytestmark = pytest.mark.compat

RAW_INPUTS: dict[str, bytes] = {
    "html-and-control": b'{"a": "<>&\\u2028\\u2029 \\u0001\\b\\f\\t\\n\\r\\u007f \\\\u003c \\\\u003e",'
    b' "b": "\xc3\xa9\xe2\x82\xac"}',
    "numbers": b'{"n": [1, 1.5, 1e21, 1e-7, 123456789012345678901234, -0, 0.000001, 1e20, 100, 2.5e-300, 0.1, -3]}',
    "empty-containers": b'{"builders": [], "provisioners": [], "variables": {}, "x": [{}, [], null, true, false]}',
    "duplicate-keys": b'{"a": 1, "a": 2, "builders": [{"type": "x", "type": "y"}]}',
    "trailing-text": b'{"builders": [{"type": "a"}]} trailing',
    "invalid-utf8": b'{"a": "\xe2\x82a\xff", "\xff": 1}',
    "lone-surrogate": b'{"a": "\\ud800x", "b": "\\ud83d\\ude00"}',
    "nested": b'{"builders": [{"type": "docker", "changes": ["ENV A=<b>"], "run_command": ["-d", "{{.Image}}"]}]}',
    "upper-builders": b'{"Builders": [{"type": "vmware"}]}',
    "both-builders": b'{"Builders": [{"type": "vmware"}], "builders": [{"type": "qemu", "disk_size": 10}]}',
    "provisioners-object": b'{"provisioners": {"type": "shell"}}',
    "provisioners-empty-object": b'{"provisioners": {}}',
    "provisioners-string": b'{"provisioners": "abc"}',
    "upper-provisioners": b'{"Provisioners": [{"type": "ansible-local", "galaxycommand": "g"}]}',
    "pp-string": b'{"builders": [{"type": "a"}], "post-processors": "x"}',
    "pp-nested": b'{"builders": [{"type":"a"}], "post-processors": [5, "x", [5, {"type":"manifest", "filename":"f"}]]}',
    "builders-object": b'{"builders": {"type": "x"}}',
    "builders-bad-elements": b'{"builders": [5, true, [], "x", 1, 2, 3, 4, 5, 6, 7, 8]}',
    "override-bad": b'{"builders": [{"type": "a"}], "provisioners": [{"override": "x"}]}',
    "big-disk": b'{"builders": [{"type": "qemu", "disk_size": 1e30}, {"type": "qemu", "disk_size": -2.7}]}',
    "upper-pp": b'{"builders": [{"type": "a"}], "POST-PROCESSORS": [{"type": "manifest", "filename": "f"}]}',
    "odd-provisioners": b'{"provisioners": [null, "x", 5, {"type": "powershell", "environment_vars": [null, "a`$"]}]}',
    "ps-env-numbers": b'{"provisioners": [{"type": "powershell", "elevated_user": "`$", "environment_vars": [1]}]}',
    "tag-types": b'{"post-processors": [{"type": "docker-tag", "tag": 5, "tags": "x,\\u00a0y ,x"}]}',
    "vagrant-override-replaced": b'{"post-processors": [{"type": "vagrant", "override": {"a": 1}, "vmware": {}}]}',
    "top-level-array": b"[]",
    "empty-file": b"",
    "syntax-error": b'{"a" 1}',
    "number-out-of-range": b'{"a": 1e400}',
}


def _with_types(template: dict[str, Any]) -> dict[str, Any]:
    """Give typeless builders a type: Packer 1.6.6's comm-config fixer crashes without one."""
    builders = template.get("builders")
    if not isinstance(builders, list):
        return template
    typed = [
        {"type": "file", **b} if isinstance(b, dict) and not isinstance(b.get("type"), str) else b for b in builders
    ]
    return {**template, "builders": typed}


def _inputs() -> Iterator[tuple[str, bytes]]:
    for index, case in enumerate(CASES):
        if not case.crashes_packer:
            yield f"case{index}-{case.fixer}", json.dumps(_with_types(case.given)).encode()
    yield from RAW_INPUTS.items()


def _run(argv: list[str], cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(argv, capture_output=True, env=env, timeout=120, cwd=cwd)


def _packer_fix(*args: str, cwd: str) -> subprocess.CompletedProcess[bytes]:
    """``packer fix`` through the tests' one Packer helper: a crash is retried once; a second is the answer."""
    done = run_packer("fix", *args, cwd=cwd, timeout=120, crash_ok=True)  # some inputs make Packer panic every time
    out, err = (text.encode("utf-8", "surrogateescape") for text in (done.stdout, done.stderr))
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


_BATCH = """
import base64, contextlib, io, json, sys
from imagesmith.cli import main
results = []
for path in sys.argv[2:]:
    out, err = io.BytesIO(), io.StringIO()
    wrapper = io.TextIOWrapper(out, encoding="utf-8")
    with contextlib.redirect_stdout(wrapper), contextlib.redirect_stderr(err):
        code = main(["fix", sys.argv[1], path])
        wrapper.flush()
    results.append([code, base64.b64encode(out.getvalue()).decode(), err.getvalue()])
json.dump(results, sys.stdout)
"""


def _run_imagesmith_batch(paths: list[Path], flag: str) -> list[subprocess.CompletedProcess[bytes]]:
    """``imagesmith fix`` through its CLI entry point for many paths in one process (fast)."""
    done = _run([sys.executable, "-c", _BATCH, flag, *map(str, paths)])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return [
        subprocess.CompletedProcess([], code, base64.b64decode(out), err.encode())
        for code, out, err in json.loads(done.stdout)
    ]


def _both(paths: list[Path], flag: str) -> list[tuple[subprocess.CompletedProcess[bytes], ...]]:
    # Packer writes crash.log into its working directory when it panics: keep that out of the repository.
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(max_workers=4) as pool:
        ours = pool.submit(_run_imagesmith_batch, paths, flag)
        packer = list(pool.map(lambda p: _packer_fix(flag, str(p.resolve()), cwd=scratch), paths))
    return list(zip(packer, ours.result(), strict=True))


def _write_all(tmp_path: Path, inputs: list[tuple[str, bytes]]) -> list[Path]:
    paths = []
    for name, data in inputs:
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_fix_output_matches_packer(need_packer: None, tmp_path: Path) -> None:
    inputs = list(_inputs())
    paths = _write_all(tmp_path, inputs)
    mismatches = []
    for (name, _), (packer, ours) in zip(inputs, _both(paths, "-validate=false"), strict=True):
        assert packer.returncode in (0, 1), f"{name}: Packer crashed:\n{packer.stdout.decode(errors='replace')}"
        assert b"Traceback" not in ours.stderr, f"{name}: {ours.stderr.decode(errors='replace')}"
        if packer.returncode != ours.returncode:
            mismatches.append(f"{name}: exit {packer.returncode} vs {ours.returncode}: {ours.stderr!r}")
        elif packer.returncode == 0 and packer.stdout != ours.stdout:
            mismatches.append(f"{name}:\n--- packer\n{packer.stdout.decode()}\n--- imagesmith\n{ours.stdout.decode()}")
    assert not mismatches, "\n".join(mismatches)
    assert len(inputs) > 100


@pytest.mark.parametrize("fixture", ["fix", "fix-invalid"])
def test_fix_fixtures_with_validation(need_packer: None, fixture: str, tmp_path: Path) -> None:
    path = FIXTURES / "command" / fixture / "template.json"
    packer = _packer_fix(str(path), cwd=str(tmp_path))
    ours = _run([sys.executable, "-m", "imagesmith", "fix", str(path)])
    assert ours.returncode == packer.returncode
    assert packer.stdout.startswith(ours.stdout)  # Packer also prints its error on stdout
    if fixture == "fix-invalid":
        assert b"Unknown root level key in template: 'hello'" in ours.stderr
        assert b"<fixed template>:3:3" in ours.stderr


def test_fix_with_validation_agrees_with_packer(need_packer: None, tmp_path: Path) -> None:
    """With validation on, the exit code agrees on every input (and stdout when both succeed)."""
    inputs = list(_inputs())
    paths = _write_all(tmp_path, inputs)
    mismatches = []
    for (name, _), (packer, ours) in zip(inputs, _both(paths, "-validate=true"), strict=True):
        if packer.returncode != ours.returncode or (packer.returncode == 0 and packer.stdout != ours.stdout):
            mismatches.append(f"{name}: exit {packer.returncode} vs {ours.returncode}: {ours.stderr!r}")
    assert not mismatches, "\n".join(mismatches)


BUILDER_TYPES = [
    "virtualbox", "virtualbox-iso", "virtualbox-ovf", "vmware", "vmware-iso", "qemu", "docker", "amazon-ebs",
    "amazon-instance", "amazon-chroot", "hyperv-iso", "hyperv-vmcx", "parallels-iso", "scaleway", "vsphere-iso",
    "azure-chroot", "proxmox", "null", "file",
]  # fmt: skip
BUILDER_KEYS = [
    "iso_md5", "iso_checksum", "iso_checksum_type", "iso_checksum_url", "ami_name", "snapshot_name",
    "guest_additions_attach", "headless", "parallels_tools_host_path", "guest_os_distribution", "guest_os_type",
    "ssh_key_path", "ssh_private_key_file", "ssh_disable_agent", "ssh_disable_agent_forwarding", "access_key",
    "organization_id", "shutdown_behaviour", "enhanced_networking", "ssh_private_ip", "ssh_interface",
    "temporary_security_group_source_cidr", "login_email", "remote_type", "disk_type_id", "skip_compaction",
    "vhd_temp_path", "clone_from_vmxc_path", "cpu", "ram_size", "image_name", "spot_price_auto_product", "disk_size",
    "ssh_host_port_min", "ssh_host_port_max", "host_port_min", "ssh_skip_nat_mapping", "skip_nat_mapping",
    "ssh_wait_timeout", "ssh_timeout", "network", "networkCard", "network_card", "disk_thin_provisioned",
    "network_adapters", "storage", "shared_image_destination", "name",
]  # fmt: skip
PP_TYPES = ["vagrant", "manifest", "docker-tag", "docker-push", "compress", "checksum"]
PP_KEYS = [
    "aws",
    "virtualbox",
    "vmware",
    "override",
    "filename",
    "output",
    "tag",
    "tags",
    "login_email",
    "keep_input_artifact",
]
PROV_TYPES = ["shell", "powershell", "ansible-local", "file"]
PROV_KEYS = ["elevated_user", "elevated_password", "environment_vars", "galaxycommand", "galaxy_command", "override"]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 2 else 6)
    if choice == 0:
        return rng.choice(
            ["", "x", "a, b,a", "true", "0", "esx5", "thin", "{{ .CreateTime }}-clean_ami_name", '`$`"``']
        )
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, 1, 2222, 40960, -1, 1.5, 1e21, 3e-9])
    if choice == 3:
        return None
    if choice in (4, 5):
        return rng.choice(["esx5", "thin", "zeroedthick", "md5", "file.txt", "<b>&"])
    if choice == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(["exlude_from_latest", "a", "virtualbox", "k"]): _random_value(rng, depth + 1)}


def _random_block(rng: random.Random, types: list[str], keys: list[str]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": rng.choice(types)}
    for key in rng.sample(keys, rng.randrange(1, 6)):
        block[key] = _random_value(rng)
        if key == "override" and rng.random() < 0.8:  # mostly valid overrides, so that the rest gets fixed
            block[key] = {rng.choice(["virtualbox", "virtualbox-iso", "docker"]): _random_value(rng)}
    return block


def _random_template(rng: random.Random) -> dict[str, Any]:
    template: dict[str, Any] = {
        "builders": [_random_block(rng, BUILDER_TYPES, BUILDER_KEYS) for _ in range(rng.randrange(1, 4))]
    }
    if rng.random() < 0.6:
        pps: list[Any] = [_random_block(rng, PP_TYPES, PP_KEYS) for _ in range(rng.randrange(3))]
        if rng.random() < 0.3:
            pps.append([_random_block(rng, PP_TYPES, PP_KEYS), "compress"])
        template["post-processors"] = pps
    if rng.random() < 0.6:
        template["provisioners"] = [_random_block(rng, PROV_TYPES, PROV_KEYS) for _ in range(rng.randrange(1, 3))]
    return template


def test_random_legacy_templates_match_packer(need_packer: None, tmp_path: Path) -> None:
    """200 seeded random templates full of legacy keys with values of every JSON type."""
    rng = random.Random(20201209)
    inputs = [(f"random{i}", json.dumps(_random_template(rng)).encode()) for i in range(200)]
    paths = _write_all(tmp_path, inputs)
    mismatches, crashes = [], 0
    results = _both(paths, "-validate=false")
    for (name, data), (packer, ours) in zip(inputs, results, strict=True):
        assert b"Traceback" not in ours.stderr, f"{name}: {ours.stderr.decode(errors='replace')}"
        if packer.returncode == 2:  # a Go panic in Packer: imagesmith's answer is the documented improvement
            crashes += 1
        elif packer.returncode != ours.returncode or (packer.returncode == 0 and packer.stdout != ours.stdout):
            theirs, mine = packer.stdout.decode(), ours.stdout.decode() + ours.stderr.decode()
            mismatches.append(f"{name}: {data.decode()}\n--- packer\n{theirs}\n--- imagesmith\n{mine}")
    assert not mismatches, "\n".join(mismatches[:5])
    assert crashes < 100
    assert sum(packer.returncode == 0 for packer, _ in results) > 100


@pytest.mark.parametrize("flag", ["-validate=false", "-validate=true"])
def test_all_fixture_templates_agree_with_packer(need_packer: None, flag: str) -> None:
    """Every JSON file under the Packer 1.6.6 fixtures (template/, core/, command/)."""
    paths = sorted(FIXTURES.rglob("*.json"))
    mismatches, crashes = [], 0
    for path, (packer, ours) in zip(paths, _both(paths, flag), strict=True):
        assert b"Traceback" not in ours.stderr, f"{path}: {ours.stderr.decode(errors='replace')}"
        if packer.returncode == 2:  # Packer panics on a builder without a type (comm-config fixer)
            crashes += 1
            assert ours.returncode == (1 if flag == "-validate=true" else 0)
        elif packer.returncode != ours.returncode or (packer.returncode == 0 and packer.stdout != ours.stdout):
            mismatches.append(f"{path}: exit {packer.returncode} vs {ours.returncode}: {ours.stderr!r}")
    assert not mismatches, "\n".join(mismatches)
    assert len(paths) >= 100
    assert crashes <= 3

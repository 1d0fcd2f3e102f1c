"""``imagesmith fix`` against ``packer fix`` (1.6.6), byte for byte on stdout, and exit codes.

Every input of the fixer table tests (tests/unit/test_fix_fixers.py) plus some JSON-encoding and
odd-shape inputs go through both CLIs with ``-validate=false`` (imagesmith's CLI entry point runs
them all in one process, Packer runs in parallel threads, so this takes a few seconds); the
fixtures command/fix and command/fix-invalid go through both as real processes, validation on.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
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


def _run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(argv, capture_output=True, env=env, timeout=120)


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
    with ThreadPoolExecutor(max_workers=4) as pool:
        ours = pool.submit(_run_imagesmith_batch, paths, flag)
        packer = list(pool.map(lambda p: _run(["packer", "fix", flag, str(p)]), paths))
    return list(zip(packer, ours.result(), strict=True))


def test_fix_output_matches_packer(need_packer: None, tmp_path: Path) -> None:
    inputs = list(_inputs())
    paths = []
    for name, data in inputs:
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        paths.append(path)
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
def test_fix_fixtures_with_validation(need_packer: None, fixture: str) -> None:
    path = FIXTURES / "command" / fixture / "template.json"
    packer = _run(["packer", "fix", str(path)])
    ours = _run([sys.executable, "-m", "imagesmith", "fix", str(path)])
    assert ours.returncode == packer.returncode
    assert packer.stdout.startswith(ours.stdout)  # Packer also prints its error on stdout
    if fixture == "fix-invalid":
        assert b"Unknown root level key in template: 'hello'" in ours.stderr
        assert b"<fixed template>:3:3" in ours.stderr

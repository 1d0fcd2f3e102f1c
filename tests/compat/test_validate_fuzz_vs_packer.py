"""Differential fuzzing: random templates through ``packer validate`` and ``imagesmith validate``.

Both must agree on success or failure (Packer crashing, as it does on ``"builders": [null]``, is
not held against imagesmith). Random template-shaped documents go through ``-syntax-only``;
well-formed templates with random plugin configs (null, shell-local, file, shell, sleep,
compress, checksum, manifest) go through the full validate. Needs Packer 1.6.6.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.unit.test_template_fuzz import templates, well_formed

pytestmark = pytest.mark.compat
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _outcomes(doc: dict[str, Any], where: Path, *flags: str) -> tuple[int, str, int, str]:
    path = where / "t.json"
    path.write_text(json.dumps(doc))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    theirs = subprocess.run(
        ["packer", "validate", *flags, path.name], cwd=where, env=env, capture_output=True, text=True, check=False
    )
    ours = subprocess.run(
        [sys.executable, "-m", "imagesmith", "validate", *flags, path.name],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return theirs.returncode, theirs.stdout + theirs.stderr, ours.returncode, ours.stdout + ours.stderr


def _assert_agree(doc: dict[str, Any], where: Path, *flags: str) -> None:
    packer_rc, packer_out, our_rc, our_out = _outcomes(doc, where, *flags)
    assert "Traceback" not in our_out
    if "PACKER CRASH" in packer_out:
        assert our_rc == 1, our_out
        return
    detail = f"{json.dumps(doc)}\nPacker ({packer_rc}):\n{packer_out}\nimagesmith ({our_rc}):\n{our_out}"
    assert our_rc == packer_rc, detail


@SETTINGS
@given(templates)
def test_syntax_only_agrees_with_packer(tmp_path: Path, need_packer: None, doc: dict[str, Any]) -> None:
    _assert_agree(doc, tmp_path, "-syntax-only")


@SETTINGS
@given(well_formed)
def test_full_validate_agrees_with_packer(tmp_path: Path, need_packer: None, doc: dict[str, Any]) -> None:
    _assert_agree(doc, tmp_path)

"""Plugin type names are what the plugins declare: ``shell_local`` and ``docker_tag`` are unknown, as in Packer.

Before plugins were registered through entry points, imagesmith found built-ins by module name, so
the underscore spellings validated while Packer 1.6.6 rejects them. Each case runs ``packer
validate`` live and ``imagesmith validate`` on the same template: both must fail with exit status
1, and imagesmith's error must carry Packer's sentence for the unknown type (white space squashed:
Packer's UI wraps long lines).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli, run_packer

pytestmark = pytest.mark.compat

NULL = {"type": "null", "communicator": "none"}
CASES = {
    "provisioner shell_local": {"builders": [NULL], "provisioners": [{"type": "shell_local", "inline": ["true"]}]},
    "post-processor docker_tag": {"builders": [NULL], "post-processors": [{"type": "docker_tag", "repository": "a"}]},
    "builder docker_tag": {"builders": [{"type": "docker_tag"}]},
    "post-processor shell_local": {"builders": [NULL], "post-processors": [{"type": "shell_local", "inline": ["x"]}]},
    "builder no-such": {"builders": [{"type": "no-such"}]},
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("case", list(CASES))
def test_unknown_type_is_rejected_like_packer(case: str, tmp_path: Path, need_packer: None) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(CASES[case], indent=2))
    packer = run_packer("validate", str(path), cwd=tmp_path)
    ours = run_cli("validate", str(path), cwd=tmp_path)
    kind, name = case.split(" ")
    sentence = f"error initializing {kind} '{name}': Unknown {kind} {name}"
    assert packer.returncode == 1, packer.stdout + packer.stderr
    assert sentence in _squash(packer.stdout + packer.stderr), "the oracle's wording changed"
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert sentence in _squash(ours.stderr), ours.stderr
    assert "Traceback" not in ours.stderr


def test_declared_spellings_validate_in_both(tmp_path: Path, need_packer: None) -> None:
    template = {
        "builders": [NULL],
        "provisioners": [{"type": "shell-local", "inline": ["true"]}],
        "post-processors": [{"type": "manifest", "output": str(tmp_path / "m.json")}],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    assert run_packer("validate", str(path), cwd=tmp_path).returncode == 0
    ours = run_cli("validate", str(path), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr

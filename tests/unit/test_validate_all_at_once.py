"""validate reports template-level and plugin-level problems together (Packer stops at the first stage)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_template_and_plugin_problems_are_reported_together(tmp_path: Path) -> None:
    template = {
        "builders": [
            {"type": "null", "communicator": "none", "bogus_key": 1},
            {"type": "no-such-builder"},
        ],
        "provisioners": [{"type": "shell-local", "inline": ["true"], "only": ["nope"]}],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template, indent=2))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert "3 errors occurred" in result.stderr
    assert 'unknown configuration key: "bogus_key"' in result.stderr
    assert "error initializing builder 'no-such-builder': Unknown builder no-such-builder" in result.stderr
    assert "'only' specified builder 'nope' not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_required_variable_still_stops_early(tmp_path: Path) -> None:
    template = {"variables": {"req": None}, "builders": [{"type": "null", "communicator": "none", "bogus": 1}]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert "required variable not set: req" in result.stderr


def test_a_bool_duration_decodes_as_packers_weak_int(tmp_path: Path) -> None:
    """Packer 1.6.6 decodes `"pause_before_connecting": false` (mapstructure's weak bool → int64: 0 ns)
    and goes on to the next check; it is not a type error (found by the build fuzz against Packer)."""
    builder = {"type": "null", "ssh_host": "127.0.0.1", "ssh_username": "x", "pause_before_connecting": False}
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"builders": [builder]}))
    done = run_cli("validate", str(template))
    assert done.returncode == 1
    assert "one authentication method must be specified" in done.stderr
    assert "time.Duration" not in done.stderr

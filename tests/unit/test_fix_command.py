"""``imagesmith fix`` as a user runs it: output, exit codes, messages, and no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from imagesmith.template.fix import FIXERS
from tests.conftest import FIXTURES, run_cli

FIX_FIXTURE = FIXTURES / "command" / "fix" / "template.json"
INVALID_FIXTURE = FIXTURES / "command" / "fix-invalid" / "template.json"


def _write(tmp_path: Path, content: str | dict[str, object]) -> str:
    path = tmp_path / "template.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_fixture_is_printed_as_packer_prints_it() -> None:
    done = run_cli("fix", str(FIX_FIXTURE))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        '{\n  "builders": [\n    {\n      "type": "dummy"\n    }\n  ],\n  "push": {\n    "name": "foo/bar"\n  }\n}\n\n'
    )
    assert done.stderr == ""


def test_invalid_fixed_template_fails_validation_after_printing() -> None:
    done = run_cli("fix", str(INVALID_FIXTURE))
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"builders": None, "hello": "world"}
    assert "the fixed template fails to parse" in done.stderr
    assert "<fixed template>:3:3: Unknown root level key in template: 'hello'" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_false_skips_validation() -> None:
    assert run_cli("fix", "-validate=false", str(INVALID_FIXTURE)).returncode == 0
    assert run_cli("fix", "-validate=true", str(INVALID_FIXTURE)).returncode == 1
    assert run_cli("fix", "-validate", str(INVALID_FIXTURE)).returncode == 1


def test_template_level_validation_errors_are_reported(tmp_path: Path) -> None:
    done = run_cli("fix", _write(tmp_path, {}))
    assert done.returncode == 1
    assert "the fixed template failed to validate" in done.stderr
    assert "at least one builder must be defined" in done.stderr


def test_fixed_legacy_template_passes_validation(tmp_path: Path) -> None:
    legacy = {"builders": [{"type": "qemu", "iso_md5": "abc", "disk_size": 10240, "ssh_wait_timeout": "5m"}]}
    done = run_cli("fix", _write(tmp_path, legacy))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["builders"] == [
        {"type": "qemu", "iso_checksum": "md5:abc", "disk_size": "10240M", "ssh_timeout": "5m"}
    ]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    done = run_cli("fix", str(tmp_path / "nope.json"))
    assert done.returncode == 1
    assert f"cannot open template: open {tmp_path / 'nope.json'}: no such file or directory" in done.stderr
    done = run_cli("fix", str(tmp_path))
    assert done.returncode == 1
    assert "is a directory" in done.stderr


def test_json_syntax_error_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "builders": [\n    {"type" "x"}\n  ]\n}\n')
    done = run_cli("fix", path)
    assert done.returncode == 1
    assert f"{path}:3:" in done.stderr
    assert "cannot parse template" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_template_from_stdin() -> None:
    done = run_cli("fix", "-validate=false", "-", stdin='{"builders": [{"type": "vmware"}]}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"builders": [{"type": "vmware-iso"}]}


def test_trailing_text_is_ignored_with_a_warning(tmp_path: Path) -> None:
    done = run_cli("fix", _write(tmp_path, '{"builders": [{"type": "null"}]}\nextra'))
    assert done.returncode == 0, done.stderr
    assert ":2:1: ignoring text after the template's JSON object" in done.stderr


def test_inputs_that_crash_packer_give_errors(tmp_path: Path) -> None:
    done = run_cli("fix", _write(tmp_path, {"builders": [{"type": "amazon-ebs", "ssh_private_ip": 1}]}))
    assert done.returncode == 1
    assert "builders[0].ssh_private_ip: expected a boolean, got float64" in done.stderr
    assert "amazon-private-ip" in done.stderr
    done = run_cli("fix", _write(tmp_path, "null"))
    assert done.returncode == 1
    assert "a template must be a JSON object" in done.stderr
    done = run_cli("fix", _write(tmp_path, {"builders": [{"ssh_host_port_min": 1}, None]}))
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["builders"] == [{"ssh_host_port_min": 1}, None]


def test_decoding_errors_keep_packer_wording(tmp_path: Path) -> None:
    done = run_cli("fix", _write(tmp_path, {"builders": {"type": "x"}}))
    assert done.returncode == 1
    assert "cannot fix template: 1 error(s) decoding:" in done.stderr
    assert "* 'Builders': source data must be an array or slice, got map" in done.stderr


def test_help_lists_the_fixers_in_order() -> None:
    done = run_cli("fix", "-h")
    assert done.returncode == 0
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and "-validate" not in line]
    assert listed[-34:] == [fixer.name for fixer in FIXERS]


def test_usage_errors() -> None:
    assert run_cli("fix").returncode == 1
    done = run_cli("fix", "-validate=maybe", str(FIX_FIXTURE))
    assert done.returncode == 1
    assert 'invalid boolean value "maybe" for -validate' in done.stderr


def test_closed_stdout_stops_quietly() -> None:
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before imagesmith writes anything (like `| true`)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "imagesmith", "fix", "-validate=false", str(FIX_FIXTURE)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert b"Traceback" not in done.stderr

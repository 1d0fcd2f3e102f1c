"""Bad input to the configuration-management provisioners: every missing path is a located validate error."""

from __future__ import annotations

import json
from pathlib import Path

from ..conftest import run_cli


def test_missing_paths_are_located_validate_errors(tmp_path: Path) -> None:
    (tmp_path / "cookbooks").mkdir()
    template = {
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [
            {"type": "puppet-masterless", "manifest_file": "missing.pp"},
            {"type": "ansible-local", "playbook_file": "nope.yml"},
            {"type": "chef-solo", "cookbook_paths": ["cookbooks", "gone"]},
            {"type": "salt-masterless", "local_state_tree": "nostates"},
            {"type": "ansible-local", "playbook_files": ["a.yml"], "playbook_file": "b.yml"},
        ],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template, indent=2))
    done = run_cli("validate", "t.json", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line.strip() for line in done.stderr.splitlines()]
    missing = "no such file or directory"
    assert f"* t.json:9:5: provisioners[0]: manifest_file is invalid: stat missing.pp: {missing}" in lines
    assert f"* t.json:13:5: provisioners[1]: playbook_file: nope.yml is invalid: stat nope.yml: {missing}" in lines
    assert "* t.json:17:5: provisioners[2]: Bad cookbook path 'gone': stat gone: no such file or directory" in lines
    assert (
        "* t.json:24:5: provisioners[3]: local_state_tree: path 'nostates' is invalid: "
        "stat nostates: no such file or directory"
    ) in lines
    assert "* t.json:28:5: provisioners[4]: Either playbook_file or playbook_files can be specified, not both" in lines


def test_cm_examples_validate() -> None:
    root = Path(__file__).resolve().parents[2]
    names = ("puppet-masterless", "puppet-server", "salt-masterless", "ansible-local", "ansible", "chef-solo")
    names += ("converge", "chef-client", "windows")
    for name in names:
        done = run_cli("validate", str(root / "examples" / f"{name}.json"), cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr

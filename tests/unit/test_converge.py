"""Unit tests of the converge provisioner against a recording communicator (Packer 1.6.6 behaviour)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.errors import BuildError
from imagesmith.provisioners.converge import ConvergeProvisioner

from .cm_fakes import RecordingComm, make, make_tree, problems_of, run


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_tree(tmp_path, monkeypatch)


def test_bootstrap_upload_and_apply(tree: Path) -> None:
    prov = make(
        ConvergeProvisioner,
        {
            "bootstrap": True,
            "version": "0.9",
            "module_dirs": [{"source": "states", "destination": "/opt/converge", "exclude": [".git"]}],
            "module": "/opt/converge/app.hcl",
            "params": {"z": "<1>", "a": "b"},
        },
    )
    comm = RecordingComm()
    ui = run(prov, comm)
    assert comm.calls == [
        ("exec", "curl -s https://get.converge.sh | sudo sh -s -- -v 0.9"),
        ("upload_dir", "/opt/converge <- states"),
        (
            "exec",
            "cd /tmp && sudo converge apply --local --log-level=WARNING "
            '--paramsJSON \'{"a":"b","z":"\\u003c1\\u003e"}\' /opt/converge/app.hcl',
        ),
    ]
    assert ("message", 'transferred "states" to "/opt/converge"') in ui.lines


def test_missing_converge_and_failures(tree: Path) -> None:
    with pytest.raises(BuildError, match="Could not find Converge"):
        run(make(ConvergeProvisioner, {"module": "m"}), RecordingComm({"cd /tmp": 127}))
    comm = RecordingComm({"cd /w": 3})
    with pytest.raises(BuildError, match='Error applying "m"'):
        run(make(ConvergeProvisioner, {"module": "m", "working_directory": "/w", "prevent_sudo": True}), comm)
    assert comm.calls == [("exec", "cd /w && converge apply --local --log-level=WARNING --paramsJSON '{}' m")]
    with pytest.raises(BuildError, match="Error bootstrapping converge"):
        run(make(ConvergeProvisioner, {"module": "m", "bootstrap": True}), RecordingComm({"curl": 1}))


def test_checks(tree: Path) -> None:
    assert problems_of(ConvergeProvisioner, {"module_dirs": [{"source": "s"}]}) == [
        "Converge requires a module to provision the system",
        'Destination ("destination" key) is required in Converge module dir #0',
    ]

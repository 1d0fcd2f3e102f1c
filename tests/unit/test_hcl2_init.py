"""``imagesmith init``: required_plugins checked as Packer checks them, resolved against installed
entry points (built in, or a third-party distribution made here on sys.path), nothing downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.cli import main

REQS = """
packer {
  required_plugins {
%s
  }
}
variable "unset" { type = string }
"""


def _config(tmp_path: Path, entries: str) -> Path:
    path = tmp_path / "t.pkr.hcl"
    path.write_text(REQS % entries)
    return path


def _entry(name: str, source: str, version: str = ">= 1.0.0") -> str:
    return f'    {name} = {{\n      source  = "{source}"\n      version = "{version}"\n    }}'


def test_built_in_plugins_meet_requirements(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = "\n".join(
        [_entry("docker", "github.com/hashicorp/docker"), _entry("amazon", "github.com/hashicorp/amazon")]
    )
    assert main(["init", str(_config(tmp_path, entries))]) == 0  # the unset variable does not matter
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("amazon: github.com/hashicorp/amazon >= 1.0.0: built in (builder amazon-ebs, ")
    assert "post-processor amazon-import" in out[0]
    assert out[1].startswith("docker: github.com/hashicorp/docker >= 1.0.0: built in (builder docker; post-processor")
    assert "docker-import" in out[1]


def test_missing_plugins_are_all_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = "\n".join([
        _entry("parallels", "github.com/hashicorp/parallels"),
        _entry("hyperv", "github.com/hashicorp/hyperv"),
        _entry("qemu", "github.com/hashicorp/qemu"),
    ])  # fmt: skip
    assert main(["init", str(_config(tmp_path, entries))]) == 1
    err = capsys.readouterr().err
    assert "Error: Missing plugins" in err
    assert "parallels: github.com/hashicorp/parallels >= 1.0.0: no installed" in err
    assert "hyperv: github.com/hashicorp/hyperv" in err and "qemu:" not in err
    assert "does not download plugins" in err


def _third_party(site: Path, version: str) -> None:
    info = site / f"fancy_plugin-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fancy-plugin\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[imagesmith.builders]\nfancy-iso = fancy_plugin:Builder\n")


@pytest.mark.parametrize(("installed", "ok"), [("1.4.0", True), ("0.9.0", False)])
def test_third_party_version_must_satisfy_the_constraint(
    installed: str, ok: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _third_party(tmp_path / "site", installed)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    path = _config(tmp_path, _entry("fancy", "example.com/acme/fancy", ">= 1.2.0, < 2.0.0"))
    assert main(["init", str(path)]) == (0 if ok else 1)
    out, err = capsys.readouterr()
    if ok:
        assert out == "fancy: example.com/acme/fancy >= 1.2.0, < 2.0.0: from fancy-plugin (builder fancy-iso)\n"
    else:
        assert "installed fancy-plugin 0.9.0 does not satisfy it" in err


@pytest.mark.parametrize(
    ("entry", "summary", "line"),
    [
        ('    a = ">= 1"', "Invalid plugin requirement", 4),
        ('    a = { version = "1" }', "No source was set", 4),
        ('    a = { source = "github.com/x/a" }', "No version constraint was set", 4),
        ('    a = { version = "nope", source = "github.com/x/a" }', "Invalid version constraint", 4),
        ('    a = { version = "1.0.0-beta", source = "github.com/x/a" }', "Unsupported prerelease", 4),
        ('    a = { version = "1", source = "a" }', "at least contain a host and a path", 4),
        ('    a = { version = "1", source = "github.com/x/packer-plugin-a" }', 'Did you mean "a"?', 4),
        ('    a = { version = "1", source = "github.com/x/a", extra = 1 }', "only contain", 4),
        ('    Aa = { version = "1", source = "github.com/x/a" }', "Invalid plugin local name", 4),
    ],
)
def test_bad_requirements_are_located(
    entry: str, summary: str, line: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, entry)
    assert main(["init", str(path)]) == 1
    err = capsys.readouterr().err
    assert summary in err and f"{path}:{line}:" in err and "Traceback" not in err
    assert main(["validate", str(path)]) == 1  # validate decodes the same block


def test_no_requirements_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.pkr.hcl"
    path.write_text('source "null" "x" {\n  communicator = "none"\n}\n')
    assert main(["init", str(path)]) == 0
    assert "No plugins requirement found" in capsys.readouterr().out
    json = tmp_path / "t.json"
    json.write_text('{"builders": [{"type": "null"}]}')
    assert main(["init", str(json)]) == 1
    assert "only works with HCL2 configuration templates" in capsys.readouterr().err
    assert main(["init"]) == 1
    assert main(["init", str(tmp_path / "missing.pkr.hcl")]) == 1

"""``imagesmith hcl2_upgrade``: Packer's translations, and every JSON template that ``validate`` accepts
(Packer 1.6.6's fixtures, the examples, the test guest's) upgrades to HCL2 that ``validate`` accepts
with the same builds. The upgraded docker example builds the same image: tests/integration/test_hcl2_build.py."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from imagesmith.cli import main
from imagesmith.hcl2.upgrade import upgrade_template

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = sorted(
    [
        *ROOT.glob("tests/fixtures/packer-1.6.6/**/*.json"),
        *ROOT.glob("examples/*.json"),
        ROOT / "tests/guest/packer-qemu.json",
    ]
)


def _quiet(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def _build_names(path: Path) -> list[str]:
    from imagesmith import api

    return sorted(b.name for b in api.load(str(path)).builders)


def test_every_valid_json_template_upgrades_to_valid_hcl2() -> None:
    upgraded = 0
    for path in CANDIDATES:
        try:
            raw = json.loads(path.read_text())
        except ValueError:
            continue
        if not isinstance(raw, dict) or "builders" not in raw or _quiet("validate", str(path))[0] != 0:
            continue  # fixtures of invalid templates, or of builders imagesmith has not
        target = path.with_name(path.name + ".upgraded-by-test.pkr.hcl")  # beside it: relative paths hold
        try:
            assert _quiet("hcl2_upgrade", "-output-file", str(target), str(path))[0] == 0
            code, out = _quiet("validate", str(target))
            assert code == 0, (path, out, target.read_text())
            assert [n.split(".")[-1] for n in _build_names(target)] == _build_names(path)
        finally:
            target.unlink(missing_ok=True)
        upgraded += 1
    assert upgraded >= 12


TEMPLATE = {
    "min_packer_version": "1.5.0",
    "variables": {"a": "x", "b": "{{user `a`}}-y", "home": "{{env `HOME`}}", "secret": "s", "req": None},
    "sensitive-variables": ["secret"],
    "builders": [{"type": "null", "name": "one", "communicator": "none"}, {"type": "file", "target": "t",
                  "content": "{{timestamp}} {{isotime \"2006\"}} {{build_name}} {{ .HTTPIP }} ${x} %{y}"}],
    "provisioners": [{"type": "shell-local", "inline": ["echo {{user `b`}}"], "only": ["one"],
                      "override": {"one": {"inline": ["echo over"]}}, "pause_before": "1s"}],
    "post-processors": ["manifest", [{"type": "checksum", "checksum_types": ["md5"]}, {"type": "manifest"}]],
}  # fmt: skip


def test_translations() -> None:
    text = upgrade_template(TEMPLATE)
    assert 'required_version = ">= 1.5.0"' in text
    assert 'timestamp = regex_replace(timestamp(), "[- TZ:]", "")' in text
    assert 'locals {\n  b = "${var.a}-y"\n}' in text  # a variable using a variable is a local
    assert 'variable "home" {\n  type    = string\n  default = "${env("HOME")}"\n}' in text
    assert 'variable "secret" {\n  type      = string\n  default   = "s"\n  sensitive = true\n}' in text
    assert 'variable "req" {\n  type = string\n}' in text
    assert 'source "null" "one" {' in text and 'source "file" "file" {' in text
    assert '"${local.timestamp} ${legacy_isotime("2006")} ${source.name} {{ .HTTPIP }} $${x} %%{y}"' in text
    assert 'sources = ["source.null.one", "source.file.file"]' in text
    assert 'inline       = ["echo ${local.b}"]' in text and 'only         = ["null.one"]' in text
    assert 'override     = { one = { inline = ["echo over"] } }' in text
    assert 'post-processor "manifest" {\n  }' in text or 'post-processor "manifest" {}' in text
    assert 'post-processors {\n    post-processor "checksum" {' in text


def test_upgraded_template_validates_and_formats_clean(tmp_path: Path) -> None:
    source = tmp_path / "t.json"
    source.write_text(json.dumps(TEMPLATE))
    code, out = _quiet("hcl2_upgrade", str(source))
    assert code == 0 and out == f"Successfully created {source}.pkr.hcl. Exit 0\n"
    target = tmp_path / "t.json.pkr.hcl"
    assert _quiet("fmt", "-check", str(target))[0] == 0  # laid out as fmt lays it out
    code, out = _quiet("validate", "-var", "req=r", str(target))
    assert code == 0, out


@pytest.mark.parametrize(("content", "message"), [("{", "Failed to parse"), ("[]", "a JSON template is an object")])
def test_bad_input(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "t.json"
    source.write_text(content)
    code, out = _quiet("hcl2_upgrade", str(source))
    assert code == 1 and message in out and "Traceback" not in out
    assert _quiet("hcl2_upgrade", str(tmp_path / "missing.json"))[0] == 1
    assert _quiet("hcl2_upgrade")[0] == 1

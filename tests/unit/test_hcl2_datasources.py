"""HCL2 data source plugins offline: configuration errors, output values, Packer's secret value rules.

What reaches AWS is tested against moto in tests/integration/test_hcl2_amazon_datasources.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from imagesmith.datasources import DataSource, DataSourceError
from imagesmith.datasources.amazon import AmazonSecretsManager, pick_value
from imagesmith.errors import TemplateError
from imagesmith.hcl2.packer.decode import load
from imagesmith.hcl2.types import STRING, MapType
from imagesmith.hcl2.values import SENSITIVE, to_python
from imagesmith.secrets import secrets
from imagesmith.template.decode import option
from imagesmith.template.hcl2_datasources import outputs_value


def errors_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "t.pkr.hcl").write_text(text)
    _, diags = load(tmp_path, env={})
    return [f"{d.subject.start_pos.line if d.subject else 0}: {d.summary}: {d.detail}" for d in diags.errors()]


def test_an_ami_lookup_needs_owners_and_a_known_region(tmp_path: Path) -> None:
    found = errors_of(tmp_path, 'locals {\n  a = 1\n}\ndata "amazon-ami" "x" {\n  region = "us-est-1"\n}\n')
    assert any("must declare an owner" in e and e.startswith("4: Invalid data source configuration") for e in found)
    assert any(e.startswith("4: ") and "invalid region 'us-est-1'" in e for e in found)
    assert any("The `filters` must be specified" in e for e in found)


def test_a_secret_needs_a_name_and_unknown_keys_are_located(tmp_path: Path) -> None:
    found = errors_of(tmp_path, 'data "amazon-secretsmanager" "s" {\n  region = "us-east-1"\n}\n')
    assert found == ["1: Invalid data source configuration: a 'name' must be provided"]
    found = errors_of(tmp_path, 'data "amazon-secretsmanager" "s" {\n  name = "n"\n  versoin_id = "v"\n}\n')
    assert found == [
        "3: Invalid data source configuration: unknown configuration key: \"versoin_id\" (did you mean 'version_id'?)"
    ]


def test_a_missing_profile_is_an_error_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    text = 'data "amazon-ami" "x" {\n  region = "us-east-1"\n  profile = "nosuch"\n  owners = ["self"]\n}\n'
    found = errors_of(tmp_path, text)
    assert found == [
        '1: Failed to execute data source "amazon-ami.x": '
        "AWS ec2: ProfileNotFound: The config profile (nosuch) could not be found"
    ]


def test_an_unknown_type_names_the_known_ones(tmp_path: Path) -> None:
    found = errors_of(tmp_path, 'data "amazon-amis" "x" {\n}\n')
    assert found == [
        '1: Unknown data source type: The data source type "amazon-amis" is not known '
        "(null, amazon-ami, amazon-parameterstore, amazon-secretsmanager)."
    ]


def test_secret_outputs_are_sensitive_and_registered_tags_are_a_string_map() -> None:
    outputs = {"value": "v-secret-xyz", "secret_string": "", "secret_binary": "", "version_id": "1"}
    val = outputs_value(AmazonSecretsManager(None), outputs)
    assert SENSITIVE in val.v["value"].marks and SENSITIVE not in val.v["version_id"].marks
    assert secrets.scrub("got v-secret-xyz") == "got <sensitive>"
    tags = outputs_value(AmazonSecretsManager(None), {"tags": {"b": "2", "a": "1"}, "empty": {}})
    assert tags.v["tags"].type == MapType(STRING) and to_python(tags.v["tags"]) == {"a": "1", "b": "2"}
    assert tags.v["empty"].type == MapType(STRING)


@pytest.mark.parametrize(
    ("text", "key", "want"),
    [
        ("plain text", "", "plain text"),
        ("plain text", "k", "plain text"),
        ('{"user": "app", "password": "pw"}', "password", "pw"),
        ('{"user": "app", "password": "pw"}', "", "app"),
        ('{"user": "app"}', "missing", ""),
        ('{"port": 5432}', "port", "5432"),
    ],
)
def test_the_value_output_follows_packers_rules(text: str, key: str, want: str) -> None:
    assert pick_value(text, key) == want


def test_a_nested_secret_value_is_refused() -> None:
    with pytest.raises(DataSourceError, match="unsupported secret value type"):
        pick_value('{"k": {"nested": 1}}', "k")


@dataclass(frozen=True)
class _RecordingConfig:
    name: str = option("")
    fail: bool = option(False)


class _Recording(DataSource):
    """A data source that records every run (and can fail), to prove when data sources run."""

    config_class = _RecordingConfig
    output_types: ClassVar[Mapping[str, str]] = {
        "id": "string", "count": "number", "tags": "map(string)", "flag": "bool",
    }  # fmt: skip
    runs: ClassVar[list[str]] = []

    def execute(self) -> Mapping[str, Any]:
        self.runs.append(self.config.name)
        if self.config.fail:
            raise DataSourceError("the recording data source was asked to fail")
        return {"id": "i-1", "count": 3, "tags": {"a": "1"}, "flag": True}


RECORDED = """
data "recording" "r" {
  name = "r1"
  fail = %(fail)s
}

data "null" "n" {
  input = data.recording.r.id
}

locals {
  id = upper(data.null.n.output)
}

source "docker" "s" {
  image      = data.recording.r.id
  discard    = true
  pull       = false
  volumes    = data.recording.r.tags
  privileged = data.recording.r.flag
}

build {
  sources = ["source.docker.s"]
  provisioner "shell-local" {
    inline           = ["echo ${local.id} ${data.recording.r.count} ${data.recording.r.tags["a"]}"]
    valid_exit_codes = [data.recording.r.count]
  }
}
"""


@pytest.fixture(name="recording")
def recording_fixture(monkeypatch: pytest.MonkeyPatch) -> type[_Recording]:
    from imagesmith.core import registry

    real = registry.lookup_datasource
    monkeypatch.setattr(registry, "lookup_datasource", lambda kind: _Recording if kind == "recording" else real(kind))
    _Recording.runs.clear()
    return _Recording


def test_validate_checks_data_sources_without_running_them(tmp_path: Path, recording: type[_Recording]) -> None:
    from imagesmith import api

    (tmp_path / "t.pkr.hcl").write_text(RECORDED % {"fail": "true"})
    api.validate(str(tmp_path / "t.pkr.hcl"))  # a run would fail: it did not run
    assert recording.runs == []
    with pytest.raises(TemplateError, match="the recording data source was asked to fail"):
        api.validate(str(tmp_path / "t.pkr.hcl"), evaluate_datasources=True)
    assert recording.runs == ["r1"]


def test_validate_still_checks_what_uses_unknown_outputs(tmp_path: Path, recording: type[_Recording]) -> None:
    from imagesmith import api

    found: list[str] = []
    text = RECORDED % {"fail": "false"}
    for bad, want in (("data.recording.r.count]", "data.recording.r.nope]"), ('name = "r1"', 'nmae = "r1"')):
        (tmp_path / "t.pkr.hcl").write_text(text.replace(bad, want))
        with pytest.raises(TemplateError) as caught:
            api.validate(str(tmp_path / "t.pkr.hcl"))
        found.append(str(caught.value))
    assert "Unsupported attribute" in found[0] and "nope" in found[0]  # typed unknowns: a bad output name
    assert "unknown configuration key" in found[1] and "nmae" in found[1]  # the block's config is checked
    assert recording.runs == []


def test_validate_evaluate_datasources_and_build_load_run_them(tmp_path: Path, recording: type[_Recording]) -> None:
    from imagesmith import api

    (tmp_path / "t.pkr.hcl").write_text(RECORDED % {"fail": "false"})
    api.validate(str(tmp_path / "t.pkr.hcl"), evaluate_datasources=True)
    template = api.load(str(tmp_path / "t.pkr.hcl"))  # what build, console and inspect decode
    assert recording.runs == ["r1", "r1"]
    assert template.provisioners[0].config["inline"] == ["echo I-1 3 1"]
    assert template.builders[0].config["volumes"] == {"a": "1"}


def test_unknown_outputs_become_placeholders_of_their_type(tmp_path: Path, recording: type[_Recording]) -> None:
    from imagesmith import api

    (tmp_path / "t.pkr.hcl").write_text(RECORDED % {"fail": "false"})
    template = api.load(str(tmp_path / "t.pkr.hcl"), run_datasources=False)
    config = template.provisioners[0].config
    assert config["inline"] == ["(known after build)"]
    assert config["valid_exit_codes"] == [0]
    source = template.builders[0].config
    assert (source["image"], source["volumes"], source["privileged"]) == ("(known after build)", {}, False)
    assert recording.runs == []


def test_inspect_runs_data_sources_and_shows_a_failed_one_as_unknown(
    tmp_path: Path, recording: type[_Recording]
) -> None:
    from imagesmith import api

    (tmp_path / "t.pkr.hcl").write_text(RECORDED % {"fail": "true"})
    report = api.inspect(str(tmp_path / "t.pkr.hcl")).hcl2_report
    assert recording.runs == ["r1"]  # current Packer runs data sources for inspect and ignores failures
    assert 'local.id: "<unknown>"' in report
    (tmp_path / "t.pkr.hcl").write_text(RECORDED % {"fail": "false"})
    assert 'local.id: "I-1"' in api.inspect(str(tmp_path / "t.pkr.hcl")).hcl2_report

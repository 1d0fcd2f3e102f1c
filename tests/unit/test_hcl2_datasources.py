"""HCL2 data source plugins offline: configuration errors, output values, Packer's secret value rules.

What reaches AWS is tested against moto in tests/integration/test_hcl2_amazon_datasources.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.datasources import DataSourceError
from imagesmith.datasources.amazon import AmazonSecretsManager, pick_value
from imagesmith.hcl2.packer.decode import load
from imagesmith.hcl2.types import STRING, MapType
from imagesmith.hcl2.values import SENSITIVE, to_python
from imagesmith.secrets import secrets
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
        "(null, amazon-ami, amazon-secretsmanager)."
    ]


def test_secret_outputs_are_sensitive_and_registered_tags_are_a_string_map() -> None:
    outputs = {"value": "v-secret-xyz", "secret_string": "", "secret_binary": "", "version_id": "1"}
    val = outputs_value(AmazonSecretsManager, outputs)
    assert SENSITIVE in val.v["value"].marks and SENSITIVE not in val.v["version_id"].marks
    assert secrets.scrub("got v-secret-xyz") == "got <sensitive>"
    tags = outputs_value(AmazonSecretsManager, {"tags": {"b": "2", "a": "1"}, "empty": {}})
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

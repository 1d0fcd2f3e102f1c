"""validate, inspect and build preparation on HCL2 configuration (*.pkr.hcl, *.pkr.json, directories).

Builds come out of the same typed plugin configs as JSON templates; Packer 1.6.6 is the oracle for
the validate/inspect verdicts on its own HCL2 fixtures (the compat tests below).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagesmith import api
from imagesmith.errors import TemplateError
from imagesmith.template.hcl2_bridge import load_hcl2

from ..conftest import run_cli, run_packer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "packer-1.6.6"

NULL_BUILD = """
variable "secret" {
  type      = string
  default   = "hunter2-very-secret"
  sensitive = true
}

variable "count" {
  type    = number
  default = 2
}

source "null" "a" {
  communicator = "none"
}

source "null" "b" {
  communicator = "none"
}

build {
  name    = "named"
  sources = ["source.null.a", "source.null.b"]

  provisioner "shell-local" {
    only   = ["null.a"]
    inline = ["echo ${upper(build.ID)} ${build.name} ${source.name} ${var.count}"]
  }

  provisioner "shell-local" {
    inline       = ["echo all"]
    pause_before = "1s"
    max_retries  = 2
    override = {
      "null.b" = { inline = ["echo overridden"] }
    }
  }
}
"""


def write(tmp_path: Path, text: str, name: str = "t.pkr.hcl") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_each_build_source_pair_is_a_named_builder_with_its_own_provisioners(tmp_path: Path) -> None:
    tpl = load_hcl2(str(write(tmp_path, NULL_BUILD)))
    assert [(b.name, b.type) for b in tpl.builders] == [("named.null.a", "null"), ("named.null.b", "null")]
    assert dict(tpl.builders[0].config) == {"communicator": "none"}
    first = [p for p in tpl.provisioners if p.config["inline"][0].startswith("echo {{")]
    assert [p.only for p in first] == [["named.null.a"]]  # only = ["null.a"] leaves b out
    # build.X becomes the run-time render's call, even through upper(); build.name and source.* are known
    assert first[0].config["inline"] == ["echo {{ build `ID` }} named a 2"]
    second = [p for p in tpl.provisioners if p.config["inline"] == ["echo all"]]
    assert [p.only for p in second] == [["named.null.a"], ["named.null.b"]]
    assert float(second[0].pause_before) == 1.0 and second[0].max_retries == "2"
    assert second[1].override == {"named.null.b": {"inline": ["echo overridden"]}}
    assert second[0].override == {}


def test_prepared_builds_go_through_the_typed_configs(tmp_path: Path) -> None:
    path = write(tmp_path, NULL_BUILD)
    template = api.load(str(path))
    builds = api._prepare(template, None, [], [], [])
    assert [b.name for b in builds] == ["named.null.a", "named.null.b"]
    assert [len(b.provisioners) for b in builds] == [2, 1]
    assert builds[1].provisioners[0].max_retries == 2


def test_vars_var_files_and_env_set_variables(tmp_path: Path) -> None:
    path = write(tmp_path, NULL_BUILD)
    var_file = write(tmp_path, "count = 5\n", "v.pkrvars.hcl")

    def count(tpl: api.Template) -> str:
        line: str = tpl.provisioners[0].config["inline"][0]
        return line.rsplit(" ", 1)[1]

    assert count(load_hcl2(str(path))) == "2"
    assert count(load_hcl2(str(path), var_files=[str(var_file)])) == "5"
    assert count(load_hcl2(str(path), {"count": "7"}, [str(var_file)])) == "7"  # -var beats -var-file
    assert count(load_hcl2(str(path), env={"PKR_VAR_count": "9"})) == "9"


def test_a_directory_and_hcl_json_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "src.pkr.hcl").write_text('source "null" "x" {\n  communicator = "none"\n}\n')
    build = {"build": {"sources": ["source.null.x"], "provisioner": {"shell-local": {"inline": ["true"]}}}}
    (tmp_path / "build.pkr.json").write_text(json.dumps(build))
    tpl = load_hcl2(str(tmp_path))
    assert [b.name for b in tpl.builders] == ["null.x"]
    assert tpl.provisioners[0].config == {"inline": ["true"]}
    api.validate(str(tmp_path))


def test_sensitive_values_are_registered_and_masked_in_errors(tmp_path: Path) -> None:
    text = NULL_BUILD.replace(
        'communicator = "none"\n}\n\nsource "null" "b"', 'communicator = var.secret\n}\n\nsource "null" "b"'
    )
    path = write(tmp_path, text)
    with pytest.raises(TemplateError) as caught:
        api.validate(str(path))
    assert "hunter2-very-secret" not in str(caught.value)


def test_validate_cli_on_the_docker_example() -> None:
    done = run_cli("validate", str(ROOT / "examples/docker-hello.pkr.hcl"))
    assert (done.returncode, done.stdout.strip()) == (0, "The configuration is valid."), done.stderr


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        pytest.param(
            NULL_BUILD,
            ["-var", "nope=1"],
            'Undefined -var variable; A "nope" variable was passed',
            id="unknown-variable",
        ),
        pytest.param(NULL_BUILD.replace("default = 2", 'default = "abc"'), [], "t.pkr.hcl:10:", id="type-mismatch"),
        pytest.param(NULL_BUILD, ["-var", "count=abc"], "Invalid argument value for -var variable", id="var-mismatch"),
        pytest.param(
            'source "nosuch" "x" {\n}\nbuild {\n  sources = ["source.nosuch.x"]\n}\n',
            [],
            "t.pkr.hcl:1:1: Unknown source type nosuch",
            id="unknown-builder",
        ),
        pytest.param(
            NULL_BUILD.replace("${var.count}", "${var.cnt}"),
            [],
            "t.pkr.hcl:27:74: Unsupported attribute",
            id="undeclared-reference",
        ),
        pytest.param(
            'source "null" "x" {\n  communicator = "none"\n  bogus = 1\n}\nbuild {\n  sources = ["source.null.x"]\n}\n',
            [],
            "t.pkr.hcl:3:",
            id="unknown-builder-option",
        ),
        pytest.param("build {\n  sources = [\n", [], "t.pkr.hcl:", id="syntax"),
    ],
)
def test_bad_input_gives_a_located_error_and_exit_1(tmp_path: Path, text: str, args: list[str], expected: str) -> None:
    path = write(tmp_path, text)
    for command in ("validate", "build"):
        done = run_cli(command, *args, str(path), cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert expected in done.stderr + done.stdout


def test_located_error_has_a_source_excerpt(tmp_path: Path) -> None:
    path = write(tmp_path, 'source "nosuch" "x" {\n}\n')
    done = run_cli("validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert '     1: source "nosuch" "x" {' in done.stderr and "^^^" in done.stderr


def test_a_directory_without_configuration_is_an_error(tmp_path: Path) -> None:
    for command in ("validate", "inspect"):
        done = run_cli(command, str(tmp_path), cwd=tmp_path)
        assert done.returncode == 1 and "Could not find any config file in" in done.stderr + done.stdout


def test_syntax_only_parses_without_evaluating(tmp_path: Path) -> None:
    path = write(tmp_path, 'variable "v" {\n  type = string\n}\nsource "nosuch" "x" {\n}\n')
    done = run_cli("validate", "-syntax-only", str(path), cwd=tmp_path)
    assert done.returncode == 0 and "Syntax-only check passed" in done.stdout
    write(tmp_path, 'variable "v" {\n', "t.pkr.hcl")
    assert run_cli("validate", "-syntax-only", str(path), cwd=tmp_path).returncode == 1


# --- against Packer 1.6.6 on its own HCL2 fixtures ---------------------------------------------------

#: Fixtures where imagesmith's verdict deliberately differs from Packer 1.6.6's (docs/hcl2.md).
DIFFERENT = {
    # the top-level `communicator` block is Packer 1.6.6's only; current Packer rejects it as imagesmith does
    "hcl2/communicator/basic.pkr.hcl": "communicator block",
}
HCL2_FIXTURES = sorted(
    str(p.relative_to(FIXTURES)) for p in [*FIXTURES.rglob("*.pkr.hcl"), *FIXTURES.rglob("*.pkr.json")] if p.is_file()
)


def _imagesmith_verdict(command: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(path.parent)
    try:
        api.validate(path.name) if command == "validate" else api.inspect(path.name)
    except TemplateError:
        return 1
    return 0


@pytest.mark.compat
@pytest.mark.parametrize("fixture", HCL2_FIXTURES)
def test_validate_verdict_matches_packer(fixture: str, need_packer: None, monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / fixture
    packer = run_packer("validate", path.name, cwd=path.parent).returncode
    ours = _imagesmith_verdict("validate", path, monkeypatch)
    if fixture in DIFFERENT:
        assert (packer, ours) == (0, 1), DIFFERENT[fixture]
    else:
        assert ours == packer


@pytest.mark.compat
@pytest.mark.parametrize("fixture", HCL2_FIXTURES)
def test_inspect_verdict_matches_packer(fixture: str, need_packer: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packer 1.6.6's inspect accepts invalid configuration (unknown sources, failed validations);
    imagesmith, like current Packer, reports what ``validate`` reports, except unset variables."""
    path = FIXTURES / fixture
    packer_inspect = run_packer("inspect", path.name, cwd=path.parent).returncode
    ours = _imagesmith_verdict("inspect", path, monkeypatch)
    if packer_inspect == 1:
        assert ours == 1
    elif ours == 1:
        assert fixture in DIFFERENT or run_packer("validate", path.name, cwd=path.parent).returncode == 1


@pytest.mark.compat
@pytest.mark.parametrize(
    "fixture",
    [
        "command/var-arg/fruit_builder.pkr.hcl",
        "command/hcl/inspect/fruit_string.pkr.hcl",
        "command/build-only/template.pkr.json",
        "command/build-only/template.pkr.hcl",
    ],
)
def test_inspect_report_matches_packer(fixture: str, need_packer: None, monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / fixture
    packer = run_packer("inspect", path.name, cwd=path.parent, env={"DEFAULT_FROM_ENV": ""})
    monkeypatch.chdir(path.parent)
    monkeypatch.delenv("DEFAULT_FROM_ENV", raising=False)
    monkeypatch.delenv("OTHER_DEFAULT_FROM_ENV", raising=False)
    assert api.inspect(path.name).hcl2_report.rstrip("\n") == packer.stdout.rstrip("\n")


def test_validate_accepts_evaluate_datasources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from imagesmith.cli import main

    path = tmp_path / "t.pkr.hcl"
    path.write_text('data "null" "d" {\n  input = "x"\n}\nsource "null" "s" {\n  communicator = "none"\n}\n'
                    'build {\n  sources = ["source.null.s"]\n}\n')
    assert main(["validate", "-evaluate-datasources", str(path)]) == 0
    assert "The configuration is valid." in capsys.readouterr().out

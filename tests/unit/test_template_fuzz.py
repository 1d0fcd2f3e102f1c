"""Bad input never ends in a traceback, and every reported problem says where it is.

Random JSON text, mutated fixture templates and random template-shaped documents go through the
loader, the parser, the template checks and ``prepare`` (which decodes every block with the real
plugins), and random documents and console lines through the CLI entry point, in process.
"""

from __future__ import annotations

import io
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagesmith.cli import main
from imagesmith.core import registry
from imagesmith.core.prepare import PrepareOptions, prepare_builds
from imagesmith.errors import ImagesmithError, TemplateError
from imagesmith.template.decode import config_keys
from imagesmith.template.load import parse_json
from imagesmith.template.parse import check_template, parse_template
from tests.conftest import FIXTURES

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = [p.read_text() for p in sorted((FIXTURES / "template").glob("*.json"))[:40]]

KEYS = [
    "builders", "provisioners", "post-processors", "variables", "sensitive-variables", "min_packer_version",
    "description", "error-cleanup-provisioner", "push", "_comment", "type", "name", "only", "except", "override",
    "pause_before", "max_retries", "timeout", "keep_input_artifact", "communicator", "inline", "command", "script",
    "a", "b",
]  # fmt: skip
STRINGS = [
    "null", "shell-local", "file", "compress", "checksum", "manifest", "none", "1s", "-5m", "soon", "", "a", "b",
    "a,b", "{{user `a`}}", "{{user `nope`}}", "{{ .ID }}", "{{build `ID`}}", "{{env `HOME`}}", "{{", "}}",
    "{{upper `x`}}", "{{ nosuch }}", "{{build_name}}", "1.6.6", "9.9.9", "x.y", "3", "{{split `a-b` `-` 5}}",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.sampled_from(STRINGS)
    | st.text(max_size=6)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=25,
)
blocks = st.dictionaries(st.sampled_from(KEYS), values, max_size=5).map(
    lambda d: d if "type" in d else {**d, "type": "shell-local"}
)
builder_blocks = st.dictionaries(st.sampled_from(KEYS[10:]), values, max_size=4).map(
    lambda d: {**d, "type": "null", "communicator": "none"}
)
builders = st.lists(builder_blocks, max_size=3, unique_by=lambda d: str(d.get("name"))) | st.lists(values, max_size=2)
templates = st.fixed_dictionaries(
    {"builders": builders},
    optional={
        "provisioners": st.lists(blocks | values, max_size=3),
        "post-processors": st.lists(blocks | st.sampled_from(STRINGS) | st.lists(blocks, max_size=2), max_size=3),
        "variables": st.dictionaries(st.sampled_from(["a", "b", "c"]), st.none() | st.sampled_from(STRINGS) | values),
        "sensitive-variables": st.lists(st.sampled_from(["a", "b"])) | values,
        "min_packer_version": st.sampled_from(STRINGS) | values,
        "error-cleanup-provisioner": blocks | values,
        "_comment": st.text(max_size=5) | values,
    },
)


def _plugin_blocks(kind: registry.Kind, names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Blocks of real plugin types whose keys are (mostly) the plugin's own config keys."""
    options = []
    for name in names:
        plugin = registry.lookup(kind, name)
        keys = config_keys(plugin.config_class) if plugin else []
        options.append(
            st.dictionaries(st.sampled_from([*keys, "bogus"]), scalars | st.lists(scalars, max_size=2), max_size=4).map(
                lambda d, name=name: {**d, "type": name}
            )
        )
    return st.one_of(options)


well_formed = st.fixed_dictionaries(
    {
        "builders": st.lists(
            _plugin_blocks("builder", ["null"]).map(lambda d: {**d, "communicator": "none"}),
            min_size=1,
            max_size=2,
            unique_by=lambda d: str(d.get("name")),
        ),
        "provisioners": st.lists(_plugin_blocks("provisioner", ["shell-local", "file", "shell", "sleep"]), max_size=3),
        "post-processors": st.lists(
            _plugin_blocks("post-processor", ["compress", "checksum", "manifest", "shell-local"]), max_size=3
        ),
    }
)


def _assert_located(exc: TemplateError) -> None:
    assert exc.problems
    for problem in exc.problems:
        assert problem.location is not None or problem.path, f"unlocated problem: {problem}"
        assert problem.message


def _check_document(text: str) -> None:
    """Load, parse, check and prepare ``text``; only located TemplateErrors may come out."""
    try:
        raw = parse_json(text, "fuzz.json")
        template = parse_template(raw, "/tmp/fuzz.json", "fuzz.json")
        problems = check_template(template)
        if problems:
            raise TemplateError(problems)
        prepare_builds(template, PrepareOptions(vars={"a": "1", "b": "2", "c": "3"}))
    except TemplateError as exc:
        _assert_located(exc)
        str(exc).encode("utf-8")  # printable


@FUZZ
@given(st.text(alphabet=string.printable + '{}[]":,\\ü\ud800', max_size=80))
def test_random_text_through_the_loader(text: str) -> None:
    _check_document(text)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(list('{}[]",:\\ x0-')))))
def test_mutated_fixture_templates(seed: str, edits: list[tuple[int, str]]) -> None:
    text = seed
    for pos, char in edits[:6]:
        pos %= len(text) + 1
        text = text[:pos] + char + text[pos + 1 :] if pos % 2 else text[:pos] + char + text[pos:]
    _check_document(text)


@FUZZ
@given(templates)
def test_template_shaped_documents_through_prepare(doc: dict[str, Any]) -> None:
    _check_document(json.dumps(doc))


@FUZZ
@given(well_formed)
def test_plugin_configs_through_prepare(doc: dict[str, Any]) -> None:
    _check_document(json.dumps(doc))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(templates, st.lists(st.sampled_from(STRINGS) | st.text(max_size=10), max_size=4))
def test_cli_never_shows_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], doc: Any, lines: list[str]
) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    for argv in (["validate", str(path)], ["inspect", "-machine-readable", str(path)], ["console", str(path)]):
        monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
        try:
            code = main(argv)
        except ImagesmithError as exc:  # pragma: no cover - main turns these into exit codes
            pytest.fail(f"{argv[0]} let {exc!r} escape")
        assert code in (0, 1)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err

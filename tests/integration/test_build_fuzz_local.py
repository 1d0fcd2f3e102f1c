"""Bad input at build time: random and mutated provisioner and post-processor configurations, run
through real ``imagesmith build``s of the null and file builders (the CLI entry point, in process).

Each configuration starts from a working one (so provisioners and post-processors really run) and is
mutated: keys dropped, values replaced by random scalars, lists and objects, unknown keys added.
Every run must end the way a user is promised: no traceback and no "internal error" (either is a bug,
fixed at its source), an exit code that is non-zero exactly when an error was reported, and never
exit 0 after an error. Hypothesis is derandomized (the same examples on every run), with bounded
examples and no deadline, so the machine's speed never fails a test.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from imagesmith.cli import main
from imagesmith.core import registry
from imagesmith.template.decode import config_keys

pytestmark = [pytest.mark.integration]

#: IMAGESMITH_FUZZ_EXPLORE=<examples> explores with random seeds (to hunt bugs; never in CI)
EXPLORE = int(os.environ.get("IMAGESMITH_FUZZ_EXPLORE", "0"))
FUZZ = settings(
    max_examples=EXPLORE or 200,
    derandomize=not EXPLORE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Working configurations of each plugin; the fuzz mutates them.
PROVISIONERS: dict[str, list[dict[str, Any]]] = {
    "shell-local": [
        {"inline": ["echo hi"]},
        {"inline": ["exit 3"]},
        {"inline": ["exit 3"], "valid_exit_codes": [0, 3]},
        {"command": "echo $FOO", "environment_vars": ["FOO=bar"]},
        {"script": "script.sh"},
        {"scripts": ["script.sh", "script.sh"], "execute_command": ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]},
    ],
    "shell": [{"inline": ["echo in-guest"]}, {"inline": ["exit 2"]}, {"script": "script.sh"}],
    "file": [
        {"source": "payload.txt", "destination": "/tmp/payload.txt"},
        {"content": "x", "destination": "/tmp/x.txt"},
        {"source": "/etc/hostname", "destination": "got.txt", "direction": "download"},
    ],
    "breakpoint": [{"disable": True}, {"note": "look"}],
    "sleep": [{"duration": "10ms"}, {"duration": "0s"}],
}
POST_PROCESSORS: dict[str, list[dict[str, Any]]] = {
    "compress": [{"output": "out.tar.gz"}, {"output": "out.zip"}, {"output": "o.gz", "compression_level": 1}],
    "checksum": [{"checksum_types": ["sha256", "md5"], "output": "sums.{{.ChecksumType}}"}, {}],
    "manifest": [{"output": "manifest.json", "strip_path": True}, {"custom_data": {"a": "b"}}],
    "shell-local": [{"inline": ["echo pp"]}, {"inline": ["exit 4"]}],
    "artifice": [{"files": ["payload.txt"]}, {"files": []}],
    "vagrant": [{"provider_override": "virtualbox"}, {"output": "b.box"}],
    "docker-tag": [{"repository": "imagesmith-fuzz/tagged", "tags": ["t1"]}],
    "docker-save": [{"path": "saved.tar"}],
    "docker-import": [{"repository": "imagesmith-fuzz/imported", "tag": "t"}],
}
COMMON_KEYS = ["only", "except", "pause_before", "max_retries", "timeout", "override", "keep_input_artifact"]
SCALARS = [
    None, True, False, 0, 1, -1, 3, 1.5, "", "x", "10ms", "-1s", "soon", "/", "/proc/nonexistent/f", "sub/", ".", "a,b",
    "{{user `nope`}}", "{{ .ID }}", "{{build `ID`}}", "{{", "{{ nosuch }}", "{{build_name}}", "sha256", ".tar.gz",
    "payload.txt", "upload", "download", "null", "file", "docker",
]  # fmt: skip

scalars = st.sampled_from(SCALARS) | st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "x"]), inner, max_size=2),
    max_leaves=6,
)


def _keys(kind: registry.Kind, name: str) -> list[str]:
    plugin = registry.lookup(kind, name)
    assert plugin is not None, f"no {kind} {name!r}"
    return [*config_keys(plugin.config_class), *COMMON_KEYS, "bogus"]


def mutated(kind: registry.Kind, bases: dict[str, list[dict[str, Any]]]) -> st.SearchStrategy[dict[str, Any]]:
    """A working block of one of ``bases``' types, with up to two mutations."""

    def for_type(name: str) -> st.SearchStrategy[dict[str, Any]]:
        edits = st.lists(st.tuples(st.sampled_from(_keys(kind, name)), st.none() | values), max_size=2)
        return st.tuples(st.sampled_from(bases[name]), edits).map(lambda pair: _apply(name, *pair))

    return st.one_of([for_type(name) for name in sorted(bases)])


def _apply(name: str, base: dict[str, Any], edits: list[tuple[str, Any]]) -> dict[str, Any]:
    block = {**base, "type": name}
    for key, value in edits:
        if value is None:
            block.pop(key, None)  # a drop
        else:
            block[key] = value
    if name == "shell":
        # Like Packer's, the shell provisioner retries a failing start for 5 minutes by default (with the
        # none communicator, every start fails): keep that short unless the fuzz chose a value itself.
        block.setdefault("start_retry_timeout", "1s")
    return block


def provisioners(names: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(mutated("provisioner", {n: PROVISIONERS[n] for n in names}), min_size=1, max_size=3)


def post_processors(names: list[str]) -> st.SearchStrategy[list[Any]]:
    blocks = mutated("post-processor", {n: POST_PROCESSORS[n] for n in names})
    return st.lists(blocks | st.lists(blocks, min_size=1, max_size=2), max_size=3)


# --- running a build and judging its outcome ----------------------------------------------------

FAULTS = re.compile(r"Traceback \(most recent call last\)|internal error|exception was never retrieved", re.I)
ERROR_REPORTED = re.compile(r"errored|error\(s\) occurred|^Error|had errors|[Ee]rrors? validating", re.M)


def prepare_dir(where: Path) -> None:
    """The files the base configurations name."""
    where.mkdir(parents=True)
    (where / "payload.txt").write_text("payload\n")
    (where / "script.sh").write_text("#!/bin/sh\necho from-script\n")


class _Errors(logging.Handler):
    """Collects what is logged at ERROR and above: asyncio reports an exception nobody retrieved (a
    traceback a user running the CLI would see) through logging, not through stderr."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(logging.Formatter().format(record))


def run_build(where: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    """``imagesmith build`` of ``doc`` in ``where``, in process; (exit code, stdout + stderr + errors logged)."""
    (where / "t.json").write_text(json.dumps(doc))
    old_cwd, old_stdin = os.getcwd(), sys.stdin
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    os.chdir(where)
    sys.stdin = io.StringIO("")  # a breakpoint reads an empty stdin
    try:
        code = main(["build", "-color=false", *flags, "t.json"])
        gc.collect()  # a task whose exception was never retrieved says so when it is collected
    except BaseException as exc:  # anything escaping main is a finding
        captured = capsys.readouterr()
        pytest.fail(f"{exc!r} escaped `imagesmith build` for {json.dumps(doc)}\n{captured.out}{captured.err}")
    finally:
        os.chdir(old_cwd)
        sys.stdin = old_stdin
        logging.getLogger().removeHandler(errors)
    captured = capsys.readouterr()
    return code, captured.out + captured.err + "".join(f"\n[logged] {text}" for text in errors.texts)


def check_outcome(doc: dict[str, Any], code: int, output: str) -> None:
    """No traceback, no internal error; non-zero exactly when an error was reported."""
    shown = f"{json.dumps(doc)}\n--- exit {code}:\n{output}"
    assert not FAULTS.search(output), f"a fault reached the user:\n{shown}"
    reported = bool(ERROR_REPORTED.search(output))
    assert code in (0, 1), f"unexpected exit code:\n{shown}"
    assert (code != 0) == reported, f"exit code and reported errors disagree:\n{shown}"


def note_outcome(code: int, output: str) -> None:
    """For ``--hypothesis-show-statistics``: how many examples got to build, and how they ended."""
    event("built" if "Build '" in output else "rejected before building")
    event(f"exit {code}")


@pytest.fixture
def new_dir(tmp_path: Path) -> Iterator[Any]:
    """A fresh directory per hypothesis example (tmp_path is shared by all examples of a test)."""
    count = iter(range(1_000_000))
    yield lambda: tmp_path / f"run{next(count)}"


FILE_BUILDER = {"type": "file", "content": "c", "target": "f.txt"}
LOCAL_PROVISIONERS = ["shell-local", "shell", "file", "breakpoint", "sleep"]
LOCAL_POST_PROCESSORS = ["compress", "checksum", "manifest", "shell-local", "artifice", "vagrant", "docker-tag"]


@FUZZ
@example(  # found by this fuzz: Path("/").with_name() raised ValueError, then the run exited 0
    [{"type": "sleep", "duration": "0s"}], [{"type": "compress", "output": "/"}], FILE_BUILDER
)
@given(
    provisioners(LOCAL_PROVISIONERS),
    post_processors(LOCAL_POST_PROCESSORS),
    st.sampled_from([{"type": "null", "communicator": "none"}, FILE_BUILDER]),
)
def test_null_and_file_builds_report_every_error(
    new_dir: Any, capsys: pytest.CaptureFixture[str], provs: list[Any], pps: list[Any], builder: dict[str, Any]
) -> None:
    where = new_dir()
    prepare_dir(where)
    doc = {"builders": [builder], "provisioners": provs, "post-processors": pps}
    code, output = run_build(where, doc, capsys)
    note_outcome(code, output)
    check_outcome(doc, code, output)


@settings(FUZZ, max_examples=EXPLORE or 80)
@given(provisioners(["shell-local", "sleep", "breakpoint"]), st.sampled_from(["cleanup", "abort"]))
def test_on_error_modes_report_every_error(
    new_dir: Any, capsys: pytest.CaptureFixture[str], provs: list[Any], on_error: str
) -> None:
    where = new_dir()
    prepare_dir(where)
    doc = {
        "builders": [{"type": "null", "communicator": "none"}, {"type": "file", "content": "c", "target": "f.txt"}],
        "provisioners": provs,
        "error-cleanup-provisioner": {"type": "shell-local", "inline": ["echo cleanup"]},
    }
    code, output = run_build(where, doc, capsys, f"-on-error={on_error}")
    note_outcome(code, output)
    check_outcome(doc, code, output)


def test_the_judge_can_fail() -> None:
    """The outcome check itself: a traceback, an internal error, exit 0 after an error all fail."""
    for code, output in [
        (1, "Traceback (most recent call last):\n  ..."),
        (1, "Build 'null' errored: internal error (see the debug log)"),
        (0, "Build 'null' errored after 1 second: boom"),
        (0, "==> Some builds didn't complete successfully and had errors:\n--> null: boom"),
        (1, "Build 'null' finished after 1 second.\n"),
    ]:
        with pytest.raises(AssertionError):
            check_outcome({}, code, output)
    check_outcome({}, 0, "Build 'null' finished after 1 second.\n\n==> Builds finished. The artifacts of successful "
                          "builds are:\n--> null: Did not export anything. This is the null builder")  # fmt: skip

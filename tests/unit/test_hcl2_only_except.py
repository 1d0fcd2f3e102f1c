"""``-only``/``-except`` on HCL2 builds are globs, as in current Packer (JSON keeps exact names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagesmith.core.globs import GlobError, compile_glob
from imagesmith.core.prepare import select_builds, select_hcl2_builds
from imagesmith.errors import Problem

from ..conftest import run_cli

NAMES = ["docker.a", "docker.foo", "null.foo", "web.docker.a"]


@pytest.mark.parametrize(
    ("pattern", "name", "hit"),
    [
        ("docker.*", "docker.a", True),
        ("docker.*", "web.docker.a", False),
        ("*.foo", "null.foo", True),
        ("*.foo", "docker.food", False),
        ("*", "web.docker.a", True),
        ("docker.?", "docker.a", True),
        ("docker.?", "docker.ab", False),
        ("{docker,null}.foo", "null.foo", True),
        ("[dn]*.foo", "docker.foo", True),
        ("[!d]*.foo", "docker.foo", False),
        ("docker\\*", "docker*", True),
        ("docker\\*", "dockerx", False),
        ("a+b(c)", "a+b(c)", True),
    ],
)
def test_glob_patterns(pattern: str, name: str, hit: bool) -> None:
    assert bool(compile_glob(pattern).fullmatch(name)) is hit


@pytest.mark.parametrize("pattern", ["docker.[ab", "{docker,null", "docker\\"])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(GlobError):
        compile_glob(pattern)


@pytest.mark.parametrize(
    ("only", "except_", "want"),
    [
        (["docker.*"], [], ["docker.a", "docker.foo"]),
        ([], ["*.foo"], ["docker.a", "web.docker.a"]),
        (["*docker*"], ["*.a"], ["docker.foo"]),
        (["null.foo", "web.*"], [], ["null.foo", "web.docker.a"]),
        ([], [], NAMES),
    ],
)
def test_hcl2_selection(only: list[str], except_: list[str], want: list[str]) -> None:
    problems: list[Problem] = []
    assert select_hcl2_builds(NAMES, only, except_, problems) == want
    assert problems == []


def test_json_selection_stays_exact() -> None:
    assert select_builds(NAMES, ["docker.*"], []) == []


TEMPLATE = """
source "null" "a" {
  communicator = "none"
}
source "null" "foo" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.foo"]
  provisioner "shell-local" {
    inline = ["echo ran-${source.name}"]
  }
}
"""


def test_build_runs_only_the_matching_sources(tmp_path: Path) -> None:
    (tmp_path / "t.pkr.hcl").write_text(TEMPLATE)
    done = run_cli("build", "-except=*.foo", "t.pkr.hcl", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ran-a" in done.stdout and "ran-foo" not in done.stdout
    done = run_cli("validate", "-only=null.[", "t.pkr.hcl", cwd=tmp_path)
    assert done.returncode == 1 and "Invalid -only pattern null.[: unclosed" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr

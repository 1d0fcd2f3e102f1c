"""The one boundary for failures: whatever a build raises becomes its error message, every cleanup
runs, the run exits 1, and a bug's traceback goes to a file, never to the terminal."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from imagesmith.core.plugin import Artifact, BuildContext, Builder, BuildInfo
from imagesmith.core.prepared import PreparedBuild
from imagesmith.core.run_builds import RunOptions, run_builds
from imagesmith.core.steps import Step, run_steps
from imagesmith.errors import FileError, ToolError, describe_failure, file_errors
from imagesmith.ui import ConsoleUi


class Raising(Builder):
    type_name = "raising"
    config_class = object

    def __init__(self, exc: BaseException) -> None:
        super().__init__(None, BuildInfo("b", "raising"))
        self.exc = exc

    async def run(self, ctx: BuildContext) -> Artifact | None:
        raise self.exc


def run_one(exc: BaseException) -> tuple[int, str]:
    out = io.StringIO()
    build = PreparedBuild("b", "b", "raising", BuildInfo("b", "raising"), Raising(exc))
    code = asyncio.run(run_builds([build], ConsoleUi(out, out, color=False), RunOptions()))
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_file_errors_names_operation_field_and_path(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.tar"
    with pytest.raises(FileError) as caught, file_errors("write export_path", target):
        open(target, "wb")  # noqa: SIM115 - the open is what fails
    assert str(caught.value) == f"cannot write export_path {target}: No such file or directory"


def test_os_error_ends_the_build_with_its_path() -> None:
    code, text = run_one(FileNotFoundError(2, "No such file or directory", "/nope/x.tar"))
    assert code == 1
    assert "Build 'b' errored after" in text
    assert "--> b: cannot access /nope/x.tar: No such file or directory" in text
    assert "finished" not in text.split("Wait completed")[0]


def test_tool_error_ends_the_build() -> None:
    code, text = run_one(ToolError(["docker", "commit", "c"], 1, "Error response from daemon: gone", "docker commit"))
    assert code == 1
    assert "--> b: docker commit failed: docker commit c exited with status 1" in text
    assert "Error response from daemon: gone" in text


def test_bug_is_an_internal_error_with_its_traceback_in_a_file(cache_home: Path) -> None:
    code, text = run_one(KeyError("boom"))
    assert code == 1
    assert "Traceback" not in text
    assert "internal error (KeyError: 'boom'); traceback written to " in text
    path = Path(text.split("traceback written to ")[1].split()[0])
    assert path.is_relative_to(cache_home)
    saved = path.read_text()
    assert "Traceback (most recent call last)" in saved and "KeyError: 'boom'" in saved


def test_bug_goes_to_the_log_file_when_there_is_one(tmp_path: Path) -> None:
    from imagesmith.log import configure_log

    log = tmp_path / "debug.log"
    configure_log({"IMAGESMITH_LOG": "1", "IMAGESMITH_LOG_PATH": str(log)})
    try:
        message = describe_failure(RuntimeError("oops"), "test")
    finally:
        configure_log({})
    assert message == f"internal error (RuntimeError: oops); traceback written to {log}"
    assert "RuntimeError: oops" in log.read_text()


class Recording(Step[list[str]]):
    def __init__(self, name: str, *, fail: BaseException | None = None, bad_cleanup: bool = False) -> None:
        self._name, self.fail, self.bad_cleanup = name, fail, bad_cleanup

    @property
    def name(self) -> str:
        return self._name

    async def run(self, state: list[str]) -> None:
        state.append(f"run {self._name}")
        if self.fail is not None:
            raise self.fail

    async def cleanup(self, state: list[str]) -> None:
        state.append(f"cleanup {self._name}")
        if self.bad_cleanup:
            raise AttributeError("cleanup bug")


def test_any_exception_cleans_up_every_step_even_past_a_broken_cleanup() -> None:
    state: list[str] = []
    out = io.StringIO()
    steps = [Recording("a"), Recording("b", bad_cleanup=True), Recording("c", fail=ValueError("bug"))]
    with pytest.raises(ValueError, match="bug"):
        asyncio.run(run_steps(steps, state, ConsoleUi(out, out, color=False)))
    assert state == ["run a", "run b", "run c", "cleanup c", "cleanup b", "cleanup a"]
    assert "Error cleaning up step 'b': internal error (AttributeError: cleanup bug)" in out.getvalue()


def test_abort_applies_to_any_exception() -> None:
    state: list[str] = []
    out = io.StringIO()
    steps = [Recording("a"), Recording("b", fail=OSError(5, "I/O error"))]
    with pytest.raises(OSError):
        asyncio.run(run_steps(steps, state, ConsoleUi(out, out, color=False), on_error="abort"))
    assert state == ["run a", "run b"]
    assert 'aborted: skipping cleanup of step "a"' in out.getvalue()

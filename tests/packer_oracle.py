"""The one way the tests run Packer 1.6.6, the oracle, so that Packer's own crashes never fail a test.

Packer 1.6.6 sometimes panics by itself (``PACKER CRASH``: seen in its sleep provisioner). Every live
``packer`` call in the tests goes through :func:`run_packer`, which:

1. runs Packer (CHECKPOINT_DISABLE=1);
2. if Packer crashed (``PACKER CRASH`` or a line starting ``panic:``), removes what the crashed run
   left in its working directory (``crash.log``, half a build) and runs it once more;
3. if it crashed again, answers from the recording of the same call (files written back for a
   build), or, with no recording, fails the test with a message naming Packer's crash -- unless the
   caller accepts a crash as Packer's answer (``crash_ok``; the fuzz tests, where some inputs make
   Packer panic every time).

Whatever happened is reported as a :class:`PackerCrashWarning` (pytest's warnings summary).

Recordings live in ``tests/compat/expected/packer-answers/<key>.json``; the key is a hash of the
normalised call: arguments, stdin, the extra environment and the content of every file an argument
names (the template, var files), with the working directory, pytest's temp root, the fixtures and
the checkout replaced by placeholders. ``IMAGESMITH_RECORD_PACKER=1`` saves every live answer
(``python tests/compat/record_packer.py`` runs the tests that way).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

R = TypeVar("R")

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "compat" / "expected" / "packer-answers"
RECORD_ENV = "IMAGESMITH_RECORD_PACKER"
_CRASH = re.compile(r"PACKER CRASH|^panic:", re.M)
_BASETEMP = re.compile(re.escape(os.path.realpath(tempfile.gettempdir())) + r"/pytest-of-[^/]+/pytest-\d+")
_MAX_FILE = 1 << 16  # inputs and build outputs larger than this are not part of a recording


class PackerCrashWarning(UserWarning):
    """Packer 1.6.6 crashed by itself during a test; what the helper did about it."""


@dataclass(frozen=True)
class Call:
    """One ``packer`` invocation, as the tests ask for it."""

    args: tuple[str, ...]
    cwd: Path
    stdin: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 300

    @property
    def verb(self) -> str:
        return next((a for a in self.args if not a.startswith("-")), "")

    @property
    def shown(self) -> str:
        return "packer " + " ".join(self.args) + f"  (in {self.cwd})"


def is_crash(output: str) -> bool:
    """True when ``output`` is Packer panicking, not Packer answering."""
    return _CRASH.search(output) is not None


def run_packer(
    *args: str,
    stdin: str | None = None,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    crash_ok: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``packer *args`` and return its answer, surviving Packer's own crashes (see the module doc).

    ``env`` is added to the environment; ``stdin`` is fed as text (console reads it as a file would
    be read: each line is answered). Output is decoded with surrogateescape, so bytes survive."""
    call = Call(tuple(args), Path(cwd or os.getcwd()).resolve(), stdin, dict(env or {}), timeout)
    return _answer(call, crash_ok)


def recorded_or_live(
    *args: str,
    stdin: str | None = None,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Packer's recorded answer to this call when there is one (no Packer run at all), else a live
    one through :func:`run_packer` (a crash accepted as the answer). Used by the fuzz tests, which
    would otherwise make hundreds of live calls."""
    call = Call(tuple(args), Path(cwd or os.getcwd()).resolve(), stdin, dict(env or {}), timeout)
    if os.environ.get(RECORD_ENV) != "1" and (recording := load_recording(call)) is not None:
        return replay(call, recording)
    _warn(f"no recorded answer for {call.shown}; asked the live Packer (record: tests/compat/record_packer.py)")
    return _answer(call, crash_ok=True)


def survive_crash(cwd: Path, shown: str, run: Callable[[], R], output: Callable[[R], str]) -> R:
    """``run()`` (a live Packer build the caller drives itself, e.g. streamed), once more if Packer
    crashed by itself; a second crash fails the test naming it (a VM build has no recording)."""
    before = _entries(cwd)
    first = run()
    if not is_crash(output(first)):
        return first
    _remove_new(cwd, before)
    _warn(f"Packer 1.6.6 crashed running {shown}; running it once more")
    second = run()
    if is_crash(text := output(second)):
        pytest.fail(f"Packer 1.6.6 itself crashed twice running {shown}:\n{text[-3000:]}", pytrace=False)
    return second


def _answer(call: Call, crash_ok: bool) -> subprocess.CompletedProcess[str]:
    before = _entries(call.cwd)
    first = _run_live(call)
    if not is_crash(first.stdout + first.stderr):
        return _maybe_record(call, before, first)
    _remove_new(call.cwd, before)
    _warn(f"Packer 1.6.6 crashed running {call.shown}: {_panic_line(first)}; running it once more")
    second = _run_live(call)
    if not is_crash(second.stdout + second.stderr):
        return _maybe_record(call, before, second)
    if (recording := load_recording(call)) is not None and os.environ.get(RECORD_ENV) != "1":
        _remove_new(call.cwd, before)
        _warn(f"Packer 1.6.6 crashed twice running {call.shown}; using its recorded answer")
        return replay(call, recording)
    if crash_ok:
        _warn(f"Packer 1.6.6 crashed twice running {call.shown}; taking the crash as its answer")
        return _maybe_record(call, before, second)
    _remove_new(call.cwd, before)
    pytest.fail(
        f"Packer 1.6.6 itself crashed twice ({_panic_line(second)}) running {call.shown}, and there is no "
        f"recorded answer for this call in {ANSWERS.relative_to(ROOT)} (record: tests/compat/record_packer.py)."
        f"\n--- Packer's output:\n{second.stdout}{second.stderr}",
        pytrace=False,
    )


def _run_live(call: Call) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", **call.env}
    # stdin is a file, not a pipe: from a pipe, Packer 1.6.6's console answers only the last line.
    with tempfile.TemporaryFile() as stdin:
        stdin.write(b"" if call.stdin is None else call.stdin.encode("utf-8", "surrogateescape"))
        stdin.seek(0)
        done = subprocess.run(
            ["packer", *call.args], stdin=stdin, capture_output=True, cwd=call.cwd, env=env, timeout=call.timeout
        )
    out, err = (part.decode("utf-8", "surrogateescape") for part in (done.stdout, done.stderr))
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


def _panic_line(result: subprocess.CompletedProcess[str]) -> str:
    for line in (result.stderr + result.stdout).splitlines():
        if line.startswith("panic:"):
            return line.strip()
    return "PACKER CRASH"


def _warn(message: str) -> None:
    warnings.warn(PackerCrashWarning(message), stacklevel=3)


# --- the working directory: what a run left there -----------------------------------------------


def _entries(cwd: Path) -> set[str]:
    return {p.name for p in cwd.iterdir()} if cwd.is_dir() else set()


def _remove_new(cwd: Path, before: set[str]) -> None:
    """Remove what a crashed run added to ``cwd`` (crash.log, a half-done build's files)."""
    for name in _entries(cwd) - before:
        path = cwd / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _new_files(cwd: Path, before: set[str]) -> dict[str, str]:
    """The text files a build added to ``cwd`` (relative path -> content)."""
    found: dict[str, str] = {}
    for name in sorted(_entries(cwd) - before):
        top = cwd / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_FILE:
                found[path.relative_to(cwd).as_posix()] = path.read_bytes().decode("utf-8", "surrogateescape")
    return found


# --- recordings ---------------------------------------------------------------------------------


def _placeholders(call: Call) -> list[tuple[str, str]]:
    from tests.conftest import FIXTURES  # here: conftest imports this module

    pairs = [(str(call.cwd), "<CWD>"), (os.path.realpath(ROOT), "<ROOT>"), (str(FIXTURES), "<FIXTURES>")]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def normalise(text: str, call: Call) -> str:
    """``text`` with the call's machine-specific paths replaced by placeholders."""
    for real, mark in _placeholders(call):
        text = text.replace(real, mark)
    return _BASETEMP.sub("<BASETEMP>", text)


def denormalise(text: str, call: Call) -> str:
    """The inverse of :func:`normalise` for this call (pytest's temp root taken from the cwd)."""
    base = _BASETEMP.match(str(call.cwd))
    if base:
        text = text.replace("<BASETEMP>", base.group(0))
    for real, mark in _placeholders(call):
        text = text.replace(mark, real)
    return text


def _input_files(call: Call) -> dict[str, str]:
    """The content of every file an argument names (``t.json``, ``-var-file=v.json``), normalised."""
    files: dict[str, str] = {}
    for arg in call.args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        path = call.cwd / value
        if value and not value.startswith("-") and path.is_file() and path.stat().st_size <= _MAX_FILE:
            files[normalise(value, call)] = normalise(path.read_bytes().decode("utf-8", "surrogateescape"), call)
    return files


def describe(call: Call) -> dict[str, object]:
    """The normalised call: what a recording is keyed by."""
    return {
        "args": [normalise(a, call) for a in call.args],
        "stdin": None if call.stdin is None else normalise(call.stdin, call),
        "env": {k: normalise(v, call) for k, v in sorted(call.env.items())},
        "files": _input_files(call),
    }


def recording_path(call: Call) -> Path:
    key = hashlib.sha256(json.dumps(describe(call), sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()
    return ANSWERS / f"{key[:24]}.json"


def load_recording(call: Call) -> dict[str, object] | None:
    path = recording_path(call)
    if not path.is_file():
        return None
    data: dict[str, object] = json.loads(path.read_text())
    return data


def replay(call: Call, recording: Mapping[str, object]) -> subprocess.CompletedProcess[str]:
    """The recorded answer, with this call's paths; a build's recorded output files written back."""
    outputs = recording.get("outputs") or {}
    assert isinstance(outputs, dict)
    for rel, content in outputs.items():
        path = call.cwd / denormalise(str(rel), call)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(denormalise(str(content), call).encode("utf-8", "surrogateescape"))
    rc = recording["rc"]
    assert isinstance(rc, int)
    out, err = (denormalise(str(recording[k]), call) for k in ("stdout", "stderr"))
    return subprocess.CompletedProcess(["packer", *call.args], rc, out, err)


def _maybe_record(
    call: Call, before: set[str], result: subprocess.CompletedProcess[str]
) -> subprocess.CompletedProcess[str]:
    if os.environ.get(RECORD_ENV) == "1":
        save_recording(call, result, _new_files(call.cwd, before) if call.verb == "build" else {})
    return result


def save_recording(call: Call, result: subprocess.CompletedProcess[str], outputs: Mapping[str, str]) -> Path:
    """Store Packer's answer to ``call`` (and, for a build, the files it wrote into its cwd)."""
    data = {
        "packer": "1.6.6",
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "call": describe(call),
        "rc": result.returncode,
        "stdout": normalise(result.stdout, call),
        "stderr": normalise(result.stderr, call),
        "outputs": {normalise(k, call): normalise(v, call) for k, v in outputs.items()},
    }
    path = recording_path(call)
    ANSWERS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def call_from_recording(recording: Mapping[str, object], cwd: Path) -> Call:
    """The call a recording answers, made again in ``cwd``: its input files are written there."""
    described = recording["call"]
    assert isinstance(described, dict)
    cwd.mkdir(parents=True, exist_ok=True)
    call = Call((), cwd.resolve())
    for rel, content in dict(described["files"]).items():
        path = cwd / denormalise(str(rel), call)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(denormalise(str(content), call).encode("utf-8", "surrogateescape"))
    stdin = described["stdin"]
    return Call(
        tuple(denormalise(str(a), call) for a in described["args"]),
        call.cwd,
        None if stdin is None else denormalise(str(stdin), call),
        {str(k): denormalise(str(v), call) for k, v in dict(described["env"]).items()},
    )

"""``imagesmith build`` against ``packer build`` (1.6.6) on the command fixtures, live, in temp dirs.

For each case both tools run in their own empty directory. They must agree on: the exit code,
the files created and their contents (the manifest compared without run UUIDs and times), the
artifacts reported (``--> build: artifact`` lines and the machine-readable ``artifact`` records,
compared as sorted lists since Packer prints them in Go map order), the errors listed, and the
order of shell-local effects within each build (a log the scripts append to).

The ``parallel`` fixtures use Packer's in-process test builders (``lock``, ``parallel-test``), which
``packer build`` does not have; they are driven here as ``command/build_parallel_test.go`` drives
them, with equivalent imagesmith builders and the real engine (see the end of this file).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, run_packer

pytestmark = [pytest.mark.compat, pytest.mark.integration]

COMMAND = FIXTURES / "command"

CASES: list[tuple[str, str, list[str]]] = [
    ("build-only-all", "build-only/template.json", []),
    ("build-only-only", "build-only/template.json", ["-only=chocolate,vanilla"]),
    ("build-only-except-pp", "build-only/template.json", ["-except=chocolate,apple,pear"]),
    ("build-only-not-found", "build-only/not-found.json", []),
    ("name-and-type", "build-name-and-type/all.json", []),
    ("variable-sharing", "build-variable-sharing/template.json", []),
    ("cleanup-script", "cleanup-script/template.json", []),
    ("cleanup-script-abort", "cleanup-script/template.json", ["-on-error=abort"]),
    ("timeout", "timeout/template.json", []),
    ("override", "provisioners/provisioner-override.json", []),
]

#: case → why imagesmith deliberately differs
KNOWN_DIFFERENCES = {
    "build-only-not-found": "Packer builds the valid builds, then exits 1 for the unknown builder type; "
    "imagesmith reports every problem before building anything (parse, validate, then act).",
}

#: a template whose scripts log, in order, what runs in each build (provisioners, PPs, cleanup)
ORDER_TEMPLATE: dict[str, Any] = {
    "builders": [
        {"type": "null", "name": "n", "communicator": "none"},
        {"type": "file", "name": "f", "content": "x", "target": "f.txt"},
    ],
    "provisioners": [
        {"type": "shell-local", "inline": ["echo p1 >> log.{{build_name}}"]},
        {"type": "shell-local", "inline": ["echo p2 >> log.{{build_name}}"], "pause_before": "10ms"},
        {"type": "shell-local", "only": ["n"], "inline": ["echo p3 >> log.{{build_name}}; exit 1"]},
    ],
    "error-cleanup-provisioner": {"type": "shell-local", "inline": ["echo cleanup >> log.{{build_name}}"]},
    "post-processors": [
        [
            {"type": "shell-local", "inline": ["echo pp1 >> log.{{build_name}}"]},
            {"type": "manifest", "output": "m.json", "strip_time": True},
            {"type": "shell-local", "inline": ["echo pp2 >> log.{{build_name}}"]},
        ],
        {"type": "artifice", "files": ["f.txt"], "keep_input_artifact": False},
        {"type": "shell-local", "inline": ["echo pp3 >> log.{{build_name}}"]},
    ],
}


def run_tool(tool: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if tool == "packer":
        return run_packer("build", *args, cwd=cwd, timeout=120)
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    argv = [sys.executable, "-m", "imagesmith", "build", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def files_of(root: Path) -> dict[str, Any]:
    """Every file created, with its content (manifests normalised)."""
    out: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        if path.is_dir() or path.name.endswith(".stdout"):
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".json" and "builds" in text:
            out[str(path.relative_to(root))] = normalise_manifest(json.loads(text))
        else:
            out[str(path.relative_to(root))] = text
    return out


def normalise_manifest(doc: dict[str, Any]) -> dict[str, Any]:
    builds = sorted(
        ({k: v for k, v in b.items() if k not in ("packer_run_uuid", "build_time")} for b in doc["builds"]),
        key=lambda b: json.dumps(b, sort_keys=True),
    )
    return {"builds": builds, "uuid_consistent": len({b["packer_run_uuid"] for b in doc["builds"]}) == 1}


def artifact_lines(stdout: str) -> list[str]:
    return sorted(line for line in stdout.splitlines() if line.startswith("--> "))


def machine_records(stdout: str) -> list[str]:
    records = [line.split(",", 1)[1] for line in stdout.splitlines() if re.match(r"^\d+,", line)]
    return sorted(r for r in records if re.match(r"^[^,]*,(artifact|artifact-count|error|error-count),", r))


def error_lines(stderr: str) -> list[str]:
    """The ``--> name: error`` lines of the summary (first line of each)."""
    return sorted(line for line in stderr.splitlines() if line.startswith("--> "))


@pytest.fixture
def two_dirs(tmp_path: Path, need_packer: None) -> Iterator[tuple[Path, Path]]:
    ours, theirs = tmp_path / "imagesmith", tmp_path / "packer"
    ours.mkdir()
    theirs.mkdir()
    yield ours, theirs
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize(("case", "template", "args"), CASES, ids=[c[0] for c in CASES])
def test_build_fixture_same_as_packer(two_dirs: tuple[Path, Path], case: str, template: str, args: list[str]) -> None:
    ours, theirs = two_dirs
    argv = ["-color=false", *args, str(COMMAND / template)]
    mine, packer = run_tool("imagesmith", argv, ours), run_tool("packer", argv, theirs)
    assert mine.returncode == packer.returncode, (mine.stdout + mine.stderr, packer.stdout + packer.stderr)
    if case in KNOWN_DIFFERENCES:
        assert files_of(ours) == {} and "non-existing" in mine.stderr
        return
    assert files_of(ours) == files_of(theirs), (mine.stdout, packer.stdout)
    assert artifact_lines(mine.stdout) == artifact_lines(packer.stdout)
    assert error_lines(mine.stderr) == error_lines(packer.stderr)
    if case == "override":
        assert "    example1: yes overridden" in mine.stdout and "    example2: not overridden" in mine.stdout


@pytest.mark.parametrize("args", [[], ["-except=manifest"], ["-parallel-builds=1"]])
def test_order_of_shell_local_effects_same_as_packer(two_dirs: tuple[Path, Path], args: list[str]) -> None:
    ours, theirs = two_dirs
    for where in two_dirs:
        (where / "t.json").write_text(json.dumps(ORDER_TEMPLATE))
    mine = run_tool("imagesmith", ["-machine-readable", *args, "t.json"], ours)
    packer = run_tool("packer", ["-machine-readable", *args, "t.json"], theirs)
    assert mine.returncode == packer.returncode == 1
    assert files_of(ours) == files_of(theirs)
    assert (ours / "log.n").read_text() == "p1\np2\np3\ncleanup\n"
    assert machine_records(mine.stdout) == machine_records(packer.stdout)


# --- parallel fixtures, driven like command/build_parallel_test.go ------------------------------


def parallel_builders() -> dict[str, type]:
    """``lock`` waits until released; ``parallel-test`` counts down a shared counter."""
    from dataclasses import dataclass

    from imagesmith.core.plugin import Artifact, BuildContext, Builder

    @dataclass(frozen=True)
    class Empty:
        pass

    class Shared:
        unlock: asyncio.Event
        ran: int = 0

    class LockBuilder(Builder):
        type_name = "lock"
        config_class = Empty

        async def run(self, ctx: BuildContext) -> Artifact | None:
            ctx.ui.say("locking build")
            await Shared.unlock.wait()
            return None

    class ParallelTestBuilder(Builder):
        type_name = "parallel-test"
        config_class = Empty

        async def run(self, ctx: BuildContext) -> Artifact | None:
            ctx.ui.say("building")
            Shared.ran += 1
            return None

    return {"lock": LockBuilder, "parallel-test": ParallelTestBuilder, "shared": Shared}


@pytest.mark.parametrize(
    ("fixture", "parallel", "runs", "fails"),
    [("1lock-5wg.json", 10, 5, False), ("2lock-4wg.json", 3, 4, False), ("2lock-timeout.json", 3, 4, True)],
)
def test_parallel_fixture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fixture: str, parallel: int, runs: int, fails: bool
) -> None:
    import io

    from imagesmith.core import registry
    from imagesmith.core.prepare import PrepareOptions, load_template, prepare_builds
    from imagesmith.core.run_builds import RunOptions, run_builds
    from imagesmith.ui import ConsoleUi

    plugins = parallel_builders()
    shared = plugins.pop("shared")
    real_lookup = registry.lookup
    monkeypatch.setattr(registry, "lookup", lambda kind, name: plugins.get(name) or real_lookup(kind, name))
    monkeypatch.chdir(tmp_path)
    builds = prepare_builds(load_template(str(COMMAND / "parallel" / fixture)), PrepareOptions())

    async def drive() -> int:
        shared.unlock = asyncio.Event()
        shared.ran = 0
        out = io.StringIO()
        task = asyncio.create_task(run_builds(builds, ConsoleUi(out, out), RunOptions(parallel_builds=parallel)))
        async with asyncio.timeout(30):
            while shared.ran < runs:  # every non-locking build ran although the locks hold their slots
                await asyncio.sleep(0.01)
        shared.unlock.set()
        return await task

    code = asyncio.run(drive())
    assert (code != 0) is fails


def normalise_output(text: str) -> list[str]:
    """Output lines without what legitimately differs: timestamps, durations, temp script names."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\d+,", "", line)
        line = re.sub(r"/tmp/packer-shell\w+", "TMP", line)
        out.append(re.sub(r"after [0-9a-z ]+?(\.|:|$)", r"after D\1", line))
    return out


@pytest.mark.parametrize("mode", ["-machine-readable", "-color=false"])
# (timeout/template.json is left out: whether Packer prints "Cancelling provisioner after a timeout..."
# is a race between two goroutines in its TimeoutProvisioner; imagesmith always prints it.)
@pytest.mark.parametrize("template", ["cleanup-script/template.json", "build-variable-sharing/template.json"])
def test_single_build_output_identical_to_packer(two_dirs: tuple[Path, Path], template: str, mode: str) -> None:
    ours, theirs = two_dirs
    argv = [mode, str(COMMAND / template)]
    mine, packer = run_tool("imagesmith", argv, ours), run_tool("packer", argv, theirs)
    assert normalise_output(mine.stdout) == normalise_output(packer.stdout)
    assert mine.returncode == packer.returncode


SHELL_LOCAL_TEMPLATE: dict[str, Any] = {
    "variables": {"quote": "it's"},
    "builders": [{"type": "null", "name": "sl", "communicator": "none"}],
    "provisioners": [
        {"type": "shell-local", "command": "echo command > command.txt"},
        {"type": "shell-local", "script": "one.sh"},
        {"type": "shell-local", "scripts": ["one.sh", "two.sh"], "environment_vars": ["WHO=scripts"]},
        {
            "type": "shell-local",
            "inline": ["echo \"$A|$B|$PACKER_BUILD_NAME|$PACKER_BUILDER_TYPE\" > env.txt"],
            "environment_vars": ["A={{user `quote`}}", "B=x=y"],
        },
        {
            "type": "shell-local",
            "inline": ["echo {{build `ID`}} > exec.txt"],
            "execute_command": ["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}} && echo via-exec >> exec.txt"],
        },
        {"type": "shell-local", "inline": ["echo formatted > fmt.txt; echo \"$WHO\" >> fmt.txt"],
         "environment_vars": ["WHO=env-format"], "env_var_format": "export %s='%s'; "},
        {"type": "shell-local", "inline": ["echo three > codes.txt", "exit 3"], "valid_exit_codes": [0, 3]},
        {"type": "shell-local", "inline": ["touch windows-only.txt"], "only_on": ["windows"]},
        {"type": "shell-local", "inline": ["case $0 in *.sh) echo yes;; *) echo no;; esac > ext.txt"],
         "tempfile_extension": ".sh"},
        {"type": "shell-local", "inline": ["[[ 1 == 1 ]] && echo bash > shebang.txt"],
         "inline_shebang": "/bin/bash -e"},
        {"type": "shell-local", "inline": ["echo retry >> retry.txt", "test $(wc -l < retry.txt) -ge 2"],
         "max_retries": 2},
    ],
}  # fmt: skip


def test_shell_local_options_same_as_packer(two_dirs: tuple[Path, Path]) -> None:
    for where in two_dirs:
        (where / "t.json").write_text(json.dumps(SHELL_LOCAL_TEMPLATE))
        (where / "one.sh").write_text('echo "one ${WHO:-none}" >> scripts.txt\n')
        (where / "two.sh").write_text('echo "two $WHO" >> scripts.txt\n')
        for name in ("one.sh", "two.sh"):
            (where / name).chmod(0o755)  # the default execute_command runs the script itself
    ours, theirs = two_dirs
    mine = run_tool("imagesmith", ["-color=false", "t.json"], ours)
    packer = run_tool("packer", ["-color=false", "t.json"], theirs)
    assert mine.returncode == packer.returncode == 0, (mine.stdout, packer.stdout)
    created = files_of(ours)
    assert created == files_of(theirs)
    assert created["env.txt"] == "it's|x=y|sl|null\n" and created["retry.txt"] == "retry\nretry\n"
    assert "Skipping shell-local due to runtime OS" in mine.stdout


def test_many_builds_one_manifest_and_file_sources_same_as_packer(two_dirs: tuple[Path, Path]) -> None:
    builders: list[dict[str, Any]] = [
        {"type": "file", "name": f"c{i}", "content": f"content {i}", "target": f"out/c{i}.txt"} for i in range(4)
    ]
    builders += [{"type": "file", "name": f"s{i}", "source": "src.bin", "target": f"out/s{i}.bin"} for i in range(3)]
    template = {
        "builders": builders,
        "provisioners": [{"type": "sleep", "duration": "10ms"}, {"type": "breakpoint", "disable": True, "note": "n"}],
        "post-processors": [
            {"type": "manifest", "output": "out/manifest.json", "custom_data": {"b": "{{build_name}}"}}
        ],
    }
    for where in two_dirs:
        (where / "t.json").write_text(json.dumps(template))
        (where / "src.bin").write_bytes(bytes(range(256)) * 100)
    ours, theirs = two_dirs
    # In parallel, Packer 1.6.6 loses manifest entries (its lock file gives up after 3 tries and
    # writes anyway), so the comparison runs the builds one at a time.
    mine = run_tool("imagesmith", ["-machine-readable", "-parallel-builds=1", "t.json"], ours)
    packer = run_tool("packer", ["-machine-readable", "-parallel-builds=1", "t.json"], theirs)
    assert mine.returncode == packer.returncode == 0, (mine.stdout, packer.stdout)
    created = files_of(ours)
    assert created == files_of(theirs)
    assert len(created["out/manifest.json"]["builds"]) == 7 and created["out/manifest.json"]["uuid_consistent"]
    parallel = run_tool("imagesmith", ["-force", "t.json"], ours)
    assert parallel.returncode == 0
    assert len(files_of(ours)["out/manifest.json"]["builds"]) == 7  # none lost when all run at once
    assert machine_records(mine.stdout) == machine_records(packer.stdout)
    assert 'Breakpoint provisioner with note \\"n\\" disabled; continuing...' not in mine.stdout
    assert 'Breakpoint provisioner with note "n" disabled; continuing...' in mine.stdout


@pytest.mark.parametrize(
    "post_processors",
    [
        [{"type": "manifest", "output": "missing-dir/m.json"}],
        [
            [{"type": "shell-local", "inline": ["exit 3"]}, {"type": "manifest"}],
            {"type": "shell-local", "command": "false"},
        ],
    ],
    ids=["manifest-unwritable", "failing-chains"],
)
def test_post_processor_failures_output_identical(two_dirs: tuple[Path, Path], post_processors: list[Any]) -> None:
    template = {"builders": [{"type": "file", "content": "x", "target": "x.txt"}], "post-processors": post_processors}
    for where in two_dirs:
        (where / "t.json").write_text(json.dumps(template))
    ours, theirs = two_dirs
    mine = run_tool("imagesmith", ["-machine-readable", "t.json"], ours)
    packer = run_tool("packer", ["-machine-readable", "t.json"], theirs)
    assert normalise_output(mine.stdout) == normalise_output(packer.stdout)
    assert mine.returncode == packer.returncode == 1
    assert files_of(ours) == files_of(theirs)  # the unkept builder artifact was destroyed by both

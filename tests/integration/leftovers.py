"""Run ``imagesmith build`` as a user would and prove that it left nothing behind.

:func:`run_build` starts imagesmith in a session of its own (``start_new_session``) with ``TMPDIR``
pointing at a directory of the test's, optionally inside a private mount namespace (``unshare -m``)
where a shell first mounts a small or read-only tmpfs. :meth:`Run.assert_clean` then checks:
no process of that session exists (not even a zombie), no container that was not there before
(nor any whose ID the output printed), no port the output named is still listening, the temp
directory is empty, and the paths the caller names do not exist. Other tests run concurrently on
this machine, so a container counts as the run's only if it mounts the run's temp directory or its
ID was printed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PORT_LINES = re.compile(r"(?:HTTP server on port|VNC port:|on port|host port) (\d+)")
_CONTAINER_LINE = re.compile(r"Container ID: ([0-9a-f]{12,64})")


def docker_containers() -> set[str]:
    """IDs of every container the daemon knows (empty when there is no docker here)."""
    if not shutil.which("docker"):
        return set()
    done = subprocess.run(["docker", "ps", "-aq", "--no-trunc"], capture_output=True, text=True, env=_real_docker())
    return set(done.stdout.split()) if done.returncode == 0 else set()


def _mounts_under(container: str, directory: Path) -> bool:
    """Whether ``container`` bind-mounts something under ``directory`` (a build's temp dir): other
    tests on this machine make containers concurrently, so a new container is not necessarily ours."""
    done = subprocess.run(
        ["docker", "inspect", "--format", "{{range .Mounts}}{{.Source}}\n{{end}}", container],
        capture_output=True,
        text=True,
        env=_real_docker(),
    )
    return any(line.startswith(str(directory)) for line in done.stdout.splitlines())


def _real_docker() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    return env


def session_processes(sid: int) -> list[tuple[int, str, str]]:
    """(pid, state, command) of every process whose session id is ``sid`` (zombies too)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(errors="replace")
        except OSError:
            continue
        head, _, rest = stat.rpartition(")")
        fields = rest.split()
        if int(fields[3]) == sid:
            found.append((int(entry), fields[0], head.partition("(")[2]))
    return found


def listening_ports() -> set[int]:
    """TCP ports in LISTEN state on this host (IPv4 and IPv6)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A":
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass
class Run:
    """One finished (or interrupted) imagesmith run and what existed before it."""

    returncode: int
    output: str
    pid: int
    tmpdir: Path
    containers_before: set[str]
    ports_before: set[int]
    seconds: float = 0.0
    extra: list[str] = field(default_factory=list)

    def assert_failed_with(self, *needles: str) -> None:
        """Non-zero exit, no traceback, and every ``needle`` in the output."""
        assert self.returncode != 0, self.output
        assert "Traceback" not in self.output, self.output
        assert "Task exception was never retrieved" not in self.output, self.output
        for needle in needles:
            assert needle in self.output, f"{needle!r} not in:\n{self.output}"

    def assert_clean(self, absent: Iterable[str | Path] = ()) -> None:
        """Nothing imagesmith started or made is left (see the module docstring)."""
        left = _wait_for(lambda: session_processes(self.pid), 5.0)
        assert not left, f"processes left in imagesmith's session: {left}\n{self.output}"
        now = docker_containers()
        ours = {c for c in now - self.containers_before if _mounts_under(c, self.tmpdir)}
        ours |= {c for c in _CONTAINER_LINE.findall(self.output) if any(n.startswith(c) for n in now)}
        assert not ours, f"containers left: {ours}\n{self.output}"
        named = {int(p) for p in _PORT_LINES.findall(self.output)}
        still = _wait_for(lambda: (named - self.ports_before) & listening_ports(), 5.0)
        assert not still, f"ports still listening: {still}\n{self.output}"
        entries = sorted(p.name for p in self.tmpdir.iterdir())
        assert not entries, f"left in TMPDIR: {entries}\n{self.output}"
        self.tmpdir.rmdir()
        for path in absent:
            assert not os.path.lexists(path), f"{path} was left behind\n{self.output}"


def _wait_for(probe: object, seconds: float) -> object:
    """``probe()`` until it is empty or ``seconds`` pass (a killed process takes a moment to go)."""
    assert callable(probe)
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if not result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def imagesmith_argv(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "imagesmith", "build", *args]


def start_build(
    args: Sequence[str],
    tmp_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    setup: str = "",
    after: str = "",
) -> tuple[subprocess.Popen[str], Path, set[str], set[int]]:
    """Start ``imagesmith build args`` in its own session.

    ``setup`` runs first, in a private mount namespace (``unshare -m``); ``after`` runs there once
    imagesmith has exited (to look at a tmpfs that vanishes with the namespace), and the exit
    status stays imagesmith's.
    """
    # Short: a QMP socket path under it must fit AF_UNIX's 108 bytes (pytest's tmp_path may not).
    tmpdir = Path(tempfile.mkdtemp(prefix="is-", dir="/tmp"))
    full_env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TMPDIR": str(tmpdir), "PACKER_NO_COLOR": "1"}
    full_env.pop("PACKER_TMP_DIR", None)
    full_env.update(env or {})
    argv = imagesmith_argv(args)
    if setup and after:
        argv = ["unshare", "-m", "sh", "-ec", f"{setup}\nrc=0\n{shlex.join(argv)} || rc=$?\n{after}\nexit $rc"]
    elif setup:
        argv = ["unshare", "-m", "sh", "-ec", f"{setup}\nexec {shlex.join(argv)}"]
    before, ports = docker_containers(), listening_ports()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=full_env,
        start_new_session=True,
    )
    return proc, tmpdir, before, ports


def run_build(
    args: Sequence[str],
    tmp_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    setup: str = "",
    after: str = "",
    timeout: float = 300,
) -> Run:
    """Run ``imagesmith build args`` to its end (see :func:`start_build`)."""
    started = time.monotonic()
    proc, tmpdir, before, ports = start_build(args, tmp_path, env=env, setup=setup, after=after)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        raise AssertionError(f"imagesmith did not finish within {timeout} s:\n{output}") from None
    return Run(proc.returncode, output, proc.pid, tmpdir, before, ports, time.monotonic() - started)


def tmpfs_setup(mountpoint: Path, *, size: str = "1m", read_only: bool = False) -> str:
    """Shell lines mounting a tmpfs at ``mountpoint`` in the private mount namespace."""
    opts = f"size={size}" + (",ro" if read_only else "")
    where = shlex.quote(str(mountpoint))
    return f"mkdir -p {where}\nmount -t tmpfs -o {opts} imagesmith-fault {where}"


def wrapper_dir(tmp_path: Path, tools: Mapping[str, str]) -> Path:
    """A directory of executables named after tools, each a ``/bin/sh`` script; put it first on PATH."""
    bin_dir = tmp_path / "wrappers"
    bin_dir.mkdir(exist_ok=True)
    for name, script in tools.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + script + "\n")
        path.chmod(0o755)
    return bin_dir


def real_tool(name: str) -> str:
    """The absolute path of ``name`` on the current PATH (for a wrapper to call)."""
    found = shutil.which(name)
    assert found, f"{name} not on PATH"
    return found


def path_with(bin_dir: Path) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def path_without(tmp_path: Path, *tools: str) -> str:
    """A PATH with every directory, except that ``tools`` cannot be found (a shadow directory of links)."""
    shadow = tmp_path / "shadow-bin"
    shadow.mkdir(exist_ok=True)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = shadow / name
            if name not in tools and not target.exists():
                target.symlink_to(os.path.join(directory, name))
    return str(shadow)

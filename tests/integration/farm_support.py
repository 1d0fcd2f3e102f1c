"""The farm's test harness: a private redis-server on a free loopback port, real Celery workers
(``imagesmith worker``) as subprocesses, and the client run as a user runs it.

Everything is stopped by pid and waited for. ``wrap`` prefixes every command (``nsenter
--net=...`` to run the whole farm inside moto's loopback-only network namespace).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import require_tool

START_TIMEOUT = 60.0
STOP_TIMEOUT = 90.0


def need_farm() -> None:
    """Redis from Debian and the farm's Python packages (fails under CI when missing)."""
    require_tool(shutil.which("redis-server") is not None, "needs redis-server (scripts/setup.sh installs it)")
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        require_tool(False, "needs celery and redis (pip install -e '.[test]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    dir: Path
    wrap: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    password: str = ""
    tls: bool = False  # a CA and a server certificate for 127.0.0.1 are made in ``dir``

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.tls:
            query = f"?ssl_cert_reqs=required&ssl_ca_certs={self.dir / 'ca.crt'}"
            return f"rediss://{auth}127.0.0.1:{self.port}/0{query}"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        if self.tls:
            make_certificates(self.dir)
            argv += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            argv += [arg for kind, name in TLS_FILES for arg in (f"--tls-{kind}-file", str(self.dir / name))]
        else:
            argv += ["--port", str(self.port)]
        if self.password:
            argv += ["--requirepass", self.password]
        log = (self.dir / "redis.log").open("ab")
        self.proc = subprocess.Popen([*self.wrap, *argv], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while self.cli("ping").stdout.strip() != "PONG":
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(self.dir / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def cli_argv(self) -> list[str]:
        argv = [*self.wrap, "redis-cli", "-p", str(self.port)]
        if self.tls:
            argv += ["--tls", "--cacert", str(self.dir / "ca.crt")]
        if self.password:
            argv += ["-a", self.password, "--no-auth-warning"]
        return argv

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [*self.cli_argv(), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        self.proc = None


TLS_FILES = [("cert", "server.crt"), ("key", "server.key"), ("ca-cert", "ca.crt")]


def make_certificates(directory: Path) -> None:
    """A throw-away CA and a server certificate for 127.0.0.1 (openssl; P-256 keys)."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    steps = [
        ["openssl", "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=farm-ca"],
        ["openssl", "req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", "2", "-extfile", "san.ext"],
    ]  # fmt: skip
    for argv in steps:
        subprocess.run(argv, cwd=directory, check=True, capture_output=True, timeout=60)


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Farm:
    dir: Path
    redis: RedisServer
    wrap: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    @property
    def executor(self) -> str:
        return f"-executor=celery+{self.redis.url}"

    def start_worker(self, name: str, capabilities: str = "", *extra: str, env: dict[str, str] | None = None) -> Worker:
        data = self.dir / f"worker-{name}"
        data.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "imagesmith", "worker", "-broker", self.redis.url, "-name", name]
        argv += ["-capabilities", capabilities, "-data-dir", str(data), "-loglevel", "INFO", *extra]
        log = data / "worker.log"
        proc = subprocess.Popen(
            [*self.wrap, *argv],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", **self.env, **(env or {})},
            start_new_session=True,  # its own group: the pool processes are stopped with it
        )
        worker = Worker(name, proc, log)
        self.workers.append(worker)
        return worker

    def stop_worker(self, worker: Worker, sig: signal.Signals = signal.SIGTERM) -> None:
        """Signal the worker's group (warm shutdown on SIGTERM), then wait; SIGKILL after a long wait."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.proc.pid, sig)
        try:
            worker.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait(STOP_TIMEOUT)
        if worker in self.workers:
            self.workers.remove(worker)

    def command(self, *args: str) -> list[str]:
        return [*self.wrap, sys.executable, "-m", "imagesmith", "build", self.executor, *args]

    def build(self, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CHECKPOINT_DISABLE": "1", **self.env}
        return subprocess.run(self.command(*args), capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)

    def start_build(self, *args: str, cwd: Path) -> subprocess.Popen[str]:
        env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PYTHONUNBUFFERED": "1", **self.env}
        return subprocess.Popen(
            self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, env=env
        )

    def stop(self) -> None:
        for worker in list(self.workers):
            self.stop_worker(worker)
        self.redis.stop()


@contextlib.contextmanager
def running_farm(
    directory: Path, wrap: list[str] | None = None, env: dict[str, str] | None = None, **redis_options: object
) -> Iterator[Farm]:
    redis = RedisServer(directory / "redis", wrap=list(wrap or []), **redis_options)  # type: ignore[arg-type]
    redis.start()
    farm = Farm(directory, redis, list(wrap or []), dict(env or {}))
    try:
        yield farm
    finally:
        farm.stop()


def write_template(directory: Path, raw: dict[str, object], name: str = "template.json") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(raw, indent=2))
    return path


def null_build(name: str, *lines: str, only: bool = True) -> tuple[dict[str, object], dict[str, object]]:
    """A null build and a shell-local provisioner for it alone (the worker's name is in $IMAGESMITH_FARM_WORKER)."""
    builder = {"type": "null", "name": name, "communicator": "none"}
    provisioner: dict[str, object] = {"type": "shell-local", "inline": list(lines)}
    if only:
        provisioner["only"] = [name]
    return builder, provisioner


def wait_for(predicate: object, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


class Reader:
    """Collects a client's output lines on a thread, so a test can wait for one without blocking."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 180.0) -> None:
        def seen() -> bool:
            return needle in self.text or (self.proc.poll() is not None and needle in self.finish())

        wait_for(seen, needle, timeout)

    def finish(self, timeout: float = 300.0) -> str:
        """Wait for the client to exit; all it printed."""
        self.proc.wait(timeout)
        self._thread.join(timeout)
        return self.text

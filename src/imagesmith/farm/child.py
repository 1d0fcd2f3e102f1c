"""One farm build, as a process of its own: ``python -m imagesmith.farm.child < spec.json``.

The worker starts it in a new process group and writes the build's spec to its stdin; it runs the
build through :func:`imagesmith.api.build` and writes JSON events to stdout, one per line: the
build's output lines (``ui``: already prefixed, exactly as a local run prints them), its
machine-readable records (``machine``) and finally its ``result``.

Signals: a Celery pool process ignores SIGINT and a child inherits that, so the first thing done
here is to restore SIGINT's default handling; the worker's SIGINT then cancels the build like a
Ctrl-C, and its cleanup runs. If the worker process dies, the kernel sends SIGTERM
(``PR_SET_PDEATHSIG``), which cancels the build the same way.
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.default_int_handler)  # before anything else: the trap above
signal.signal(signal.SIGTERM, signal.SIG_DFL)

import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from typing import Any, TextIO  # noqa: E402

from imagesmith.secrets import scrub  # noqa: E402
from imagesmith.ui import Ui  # noqa: E402

_PR_SET_PDEATHSIG = 1
#: The run's own summary records: the client prints its own summary from the result.
SUMMARY_KINDS = frozenset({"artifact-count", "artifact", "error-count", "error"})


class EventUi(Ui):
    """Writes what a build shows as JSON events; a closed pipe (dead worker) is ignored."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def send(self, event: dict[str, Any]) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self.out.write(json.dumps(event) + "\n")
            self.out.flush()

    def emit(self, kind: str, text: str, color: str = "") -> None:
        self.send({"t": "ui", "kind": kind, "text": scrub(text)})

    def _write(self, kind: str, message: str) -> None:  # the run's own lines, not a build's
        self.send({"t": "run", "kind": kind, "text": scrub(message)})

    def machine(self, kind: str, *args: str, target: str = "") -> None:
        if kind not in SUMMARY_KINDS:
            self.send({"t": "machine", "kind": kind, "args": [scrub(str(a)) for a in args], "target": target})


def die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGTERM when the worker process that started us dies."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if parent and os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def sensitive_from_env(names: list[str]) -> dict[str, str]:
    """Sensitive variables never travel with the build: each comes from ``PKR_VAR_<name>`` here."""
    return {name: os.environ[f"PKR_VAR_{name}"] for name in names if f"PKR_VAR_{name}" in os.environ}


def write_var_files(directory: str, sent: list[dict[str, str]]) -> list[str]:
    """An HCL2 template's ``-var-file`` copies (sensitive assignments cut out), in command order."""
    paths = [os.path.join(directory, item["name"]) for item in sent]
    from imagesmith.errors import ImagesmithError

    for path, item in zip(paths, sent, strict=True):
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(item["text"])
        except OSError as exc:
            raise ImagesmithError(f"cannot write the var file {path}: {exc.strerror}") from None
    return paths


def run_spec(spec: dict[str, Any], ui: EventUi) -> dict[str, Any]:
    """Build the one build ``spec`` names; the result event (error, interruption, artifacts)."""
    from imagesmith.api import BuildFailed, build
    from imagesmith.errors import ImagesmithError

    variables = {**spec["vars"], **sensitive_from_env(spec["sensitive"])}
    var_dir = tempfile.TemporaryDirectory(prefix="imagesmith-vars-")
    try:
        var_files = write_var_files(var_dir.name, spec.get("var_files", []))
        artifacts = build(
            spec["template"],
            vars=variables,
            var_files=var_files,
            only=[spec["name"]],
            on_error=spec["on_error"],
            force=spec["force"],
            ui=ui,
            timestamps=spec["timestamps"],
        )
        error, interrupted = None, False
    except BuildFailed as exc:
        artifacts, interrupted = exc.artifacts, exc.interrupted
        error = exc.errors.get(spec["name"]) or ("Build was cancelled." if interrupted else str(exc))
    except ImagesmithError as exc:
        artifacts, error, interrupted = [], str(exc), False
    finally:
        var_dir.cleanup()
    described = [{"builder_id": a.builder_id, "id": a.id, "string": str(a), "files": list(a.files)} for a in artifacts]
    return {"t": "result", "error": error, "interrupted": interrupted, "artifacts": described}


def main() -> int:
    from imagesmith.run import become_subreaper, reap_sessions

    die_with_parent(int(os.environ.get("IMAGESMITH_FARM_PARENT", "0")))
    become_subreaper()
    events = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the events
    ui = EventUi(events)
    spec = json.loads(sys.stdin.read())
    ui.send({"t": "pid", "pid": os.getpid()})
    try:
        ui.send(run_spec(spec, ui))
    except KeyboardInterrupt:
        ui.send({"t": "result", "error": "Build was cancelled.", "interrupted": True, "artifacts": []})
    finally:
        reap_sessions()
    return 0


if __name__ == "__main__":
    sys.exit(main())

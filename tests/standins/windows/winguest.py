"""Shared state of the Windows guest stand-in (used by ``cmd-shell``, ``powershell`` and ``shutdown``).

The guest lives in one directory GUEST (ForceCommand's argument, also ``WINGUEST`` in the
environment of the stand-ins):

* ``GUEST/fs/c/...``: drive C: (``c:/Windows/Temp/x`` and ``%SYSTEMROOT%/Temp/x`` map here);
* ``GUEST/log.jsonl``: one JSON record per remote command (``{"cmd": ...}``), per uploaded file
  (``{"upload": path, "data": base64}``) and per scheduled task (``{"task": ...}``);
* ``GUEST/config.json``: how a restart behaves (written by the test): ``down_sessions`` (how many
  sessions after the restart command are dropped, as a rebooting machine would), ``try_replies``
  (exit codes of the first ``shutdown ... "packer restart test"`` calls), ``check_failures`` (how
  many restart checks find the machine not yet up), ``registry_pending`` (how many
  ``Test-Path`` rounds of the first registry key answer True), ``hostname``, ``restart_exit``;
* ``GUEST/state.json``: what is left of those counters once a restart has been asked for.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

GUEST = Path(os.environ.get("WINGUEST", "/nonexistent"))


def host_path(win: str) -> Path:
    """Where a Windows path lives in the guest directory (drive letters are case-insensitive)."""
    path = win.strip().strip('"').replace("\\", "/")
    for var in ("%SYSTEMROOT%", "%WINDIR%", "$env:SystemRoot"):
        path = path.replace(var, "C:/Windows")
    if len(path) > 1 and path[1] == ":":
        return GUEST / "fs" / path[0].lower() / path[2:].lstrip("/")
    return GUEST / "fs" / "c" / "Users" / "packer" / path


def record(**entry: Any) -> None:
    with (GUEST / "log.jsonl").open("a") as log:
        log.write(json.dumps(entry) + "\n")


def record_upload(path: str, data: bytes) -> None:
    record(upload=path, data=base64.b64encode(data).decode())


def _load(name: str) -> dict[str, Any]:
    try:
        return dict(json.loads((GUEST / name).read_text()))
    except FileNotFoundError:
        return {}


def config() -> dict[str, Any]:
    return _load("config.json")


def state() -> dict[str, Any]:
    return _load("state.json")


def save_state(value: dict[str, Any]) -> None:
    (GUEST / "state.json").write_text(json.dumps(value))


def take(counter: str) -> bool:
    """Decrement ``counter`` in the state when it is positive; whether it was."""
    current = state()
    if current.get(counter, 0) > 0:
        current[counter] -= 1
        save_state(current)
        return True
    return False


def split_args(line: str) -> list[str]:
    """Split a Windows command line: whitespace separates, double quotes group and are removed."""
    args: list[str] = []
    word: list[str] = []
    quoted = started = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
            started = True
        elif ch in " \t" and not quoted:
            if started:
                args.append("".join(word))
                word, started = [], False
        else:
            word.append(ch)
            started = True
    if started:
        args.append("".join(word))
    return args

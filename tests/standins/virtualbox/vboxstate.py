"""State of the VBoxManage stand-in: registered machines and global extra data, one JSON file each.

Everything lives under $VBOX_STANDIN_HOME (default ~/.vbox-standin): ``global.json`` and
``VirtualBox VMs/<name>/<name>.json`` (a machine's settings, controllers, attachments, NAT rules
and, while it runs under QEMU, the process's pid, start time and QMP socket). A lock file
serialises concurrent calls.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HOME = Path(os.environ.get("VBOX_STANDIN_HOME") or Path.home() / ".vbox-standin")
MACHINES = HOME / "VirtualBox VMs"

# VBoxManage's exit codes (RTEXITCODE_FAILURE, RTEXITCODE_SYNTAX).
FAILURE, SYNTAX = 1, 2


class VBoxError(Exception):
    """A VBoxManage failure: printed as VBoxManage prints it, exit code FAILURE or SYNTAX."""

    def __init__(self, message: str, code: str = "", exit_code: int = FAILURE, context: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.exit_code, self.context = message, code, exit_code, context

    def render(self) -> str:
        lines = [f"VBoxManage: error: {self.message}"]
        if self.code:
            lines.append(f"VBoxManage: error: Details: code {self.code}, component MachineWrap, interface IMachine")
        if self.context:
            lines.append(f'VBoxManage: error: Context: "{self.context}"')
        return "\n".join(lines)


def syntax(message: str) -> VBoxError:
    return VBoxError(message, exit_code=SYNTAX)


@contextmanager
def locked() -> Iterator[None]:
    HOME.mkdir(parents=True, exist_ok=True)
    with open(HOME / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def machine_dir(name: str) -> Path:
    return MACHINES / name


def machine_file(name: str) -> Path:
    return machine_dir(name) / f"{name}.json"


def load_machine(name: str) -> dict[str, Any]:
    path = machine_file(name)
    if "/" in name or not path.exists():
        raise VBoxError(
            f"Could not find a registered machine named '{name}'",
            "VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)",
            context=f'FindMachine(Bstr("{name}").raw(), machine.asOutParam())',
        )
    return dict(json.loads(path.read_text()))


def save_machine(vm: dict[str, Any]) -> None:
    path = machine_file(vm["name"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(vm, indent=1, sort_keys=True))
    tmp.replace(path)


def new_machine(name: str, ostype: str) -> dict[str, Any]:
    if machine_file(name).exists():
        raise VBoxError(
            f"Machine settings file '{machine_file(name).with_suffix('.vbox')}' already exists",
            "VBOX_E_FILE_ERROR (0x80bb0004)",
        )
    mac = "080027" + hashlib.sha256(name.encode()).hexdigest()[:6].upper()
    return {
        "name": name, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "vbox-standin:" + name)), "ostype": ostype,
        "settings": {"cpus": "1", "memory": "128", "boot1": "floppy", "boot2": "dvd", "boot3": "disk",
                     "boot4": "none", "nic1": "nat", "nictype1": "82540EM", "macaddress1": mac},
        "controllers": {}, "attachments": {}, "natpf": {}, "extradata": {}, "state": "poweroff",
    }  # fmt: skip


def remove_machine_dir(name: str) -> None:
    shutil.rmtree(machine_dir(name), ignore_errors=True)


def load_global() -> dict[str, Any]:
    path = HOME / "global.json"
    return dict(json.loads(path.read_text())) if path.exists() else {"extradata": {}, "media": {}}


def save_global(data: dict[str, Any]) -> None:
    HOME.mkdir(parents=True, exist_ok=True)
    (HOME / "global.json").write_text(json.dumps(data, indent=1, sort_keys=True))


def log_call(argv: list[str], exit_code: int, stdout: str, stderr: str) -> None:
    """One JSON line per call in $VBOX_STANDIN_LOG (if set)."""
    path = os.environ.get("VBOX_STANDIN_LOG")
    if not path:
        return
    line = json.dumps(
        {
            "t": round(time.time(), 3),
            "argv": argv,
            "exit": exit_code,
            "stdout": stdout,
            "stderr": stderr,
            "pid": os.getppid(),
        }
    )
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(line + "\n")


def warn(message: str) -> None:
    print(f"[vbox stand-in] {message}", file=sys.stderr)

"""A Windows guest stand-in reached over SSH: a test sshd on 127.0.0.1 whose ForceCommand is
``tests/standins/windows/cmd-shell`` (the cmd.exe of Windows' OpenSSH server), with recording
``powershell``, ``shutdown`` and ``cmd`` stand-ins behind it (see ``winguest.py`` there).

Helpers read the guest's log (commands, uploads, scheduled tasks) and file tree normalised for
comparing two runs: UUIDs, local temporary script names, base64 of uploads decoded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .test_ssh_sshd import SSHD, Sshd, _free_port

STANDINS = Path(__file__).resolve().parents[1] / "standins" / "windows"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PREFIX = re.compile(r"^(==> )?null: ")
LOCAL_TMP = re.compile(r"/[^\s'\"]*/(powershell|windows-shell)-provisioner\w+")


@dataclass
class WinGuest:
    """The sshd and the guest directory behind it."""

    sshd: Sshd
    root: Path

    def reset(self, config: dict[str, Any] | None = None) -> None:
        """A fresh guest: empty ``C:/Windows/Temp``, no log, the restart behaviour in ``config``."""
        for name in ("fs", "log.jsonl", "state.json", "config.json"):
            path = self.root / name
            if path.is_dir():
                shutil.rmtree(path)
            path.unlink(missing_ok=True)
        (self.root / "fs" / "c" / "Windows" / "Temp").mkdir(parents=True)
        (self.root / "config.json").write_text(json.dumps(config or {}))

    def events(self) -> list[tuple[str, ...]]:
        """The guest's log in order, normalised: (kind, text[, uploaded bytes as text])."""
        log = self.root / "log.jsonl"
        out: list[tuple[str, ...]] = []
        for line in log.read_text().splitlines() if log.exists() else []:
            entry = json.loads(line)
            if "upload" in entry:
                data = base64.b64decode(entry["data"]).decode("utf-8", "replace")
                out.append(("upload", normalise(entry["upload"]), normalise(data)))
            else:
                out.extend((key, normalise(str(value))) for key, value in entry.items())
        return out

    def files(self) -> dict[str, str]:
        """What is left on the guest's drives, normalised path → content."""
        base = self.root / "fs"
        return {
            normalise(str(p.relative_to(base))): normalise(p.read_text("utf-8", "replace"))
            for p in sorted(base.rglob("*"))
            if p.is_file()
        }


def normalise(text: str) -> str:
    return LOCAL_TMP.sub(r"<tmp>/\1-provisioner<N>", UUID.sub("<uuid>", text))


def write_template(root: Path, guest: WinGuest, provisioners: list[dict[str, Any]], **extra: Any) -> Path:
    template = {
        **extra,
        "builders": [
            {
                "type": "null",
                "ssh_host": "127.0.0.1",
                "ssh_port": guest.sshd.port,
                "ssh_username": "root",
                "ssh_private_key_file": str(guest.sshd.key),
            }
        ],
        "provisioners": provisioners,
    }
    path = root / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def ui_lines(output: str, first: str) -> list[tuple[str, str]]:
    """The machine-readable ui lines from the one whose text starts with ``first`` on, normalised;
    the build summary at the end (timings) is left out."""
    lines: list[tuple[str, str]] = []
    for line in output.splitlines():
        fields = line.split(",", 4)
        if len(fields) == 5 and fields[2] == "ui":
            text = fields[4].replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n").strip()
            text = normalise(PREFIX.sub("", text))
            if text.startswith(first) or lines:
                lines.append((fields[3], text))
    end = next((i for i, (_, text) in enumerate(lines) if text.startswith("Build 'null'")), len(lines))
    return lines[:end]


@pytest.fixture
def win_guest(tmp_path: Path) -> Iterator[WinGuest]:
    if not (os.path.exists(SSHD) and os.geteuid() == 0 and shutil.which("ssh-keygen")):
        pytest.skip("needs root and OpenSSH's sshd")
    made_run = not os.path.isdir("/run/sshd")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    d = tmp_path / "win-sshd"
    d.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    shutil.copy(d / "client.pub", d / "authorized_keys")
    root = tmp_path / "win-guest"
    root.mkdir()
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n"
        f"PidFile {d}/sshd.pid\nUsePAM no\nStrictModes no\nPermitRootLogin yes\n"
        f"ForceCommand {STANDINS / 'cmd-shell'} {root}\n"
    )
    guest = WinGuest(Sshd(d, port, d / "client"), root)
    guest.reset()
    guest.sshd.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield guest
    finally:
        guest.sshd.stop()
        if made_run:
            os.rmdir("/run/sshd")

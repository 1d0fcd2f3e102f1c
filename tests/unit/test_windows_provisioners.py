"""The Windows provisioners' config rules, their encodings and the restart loop (no machine needed).

The restart loop runs against a recording fake communicator here because the exit codes Windows
uses for "a shutdown is in progress" (1115, 1190, 1717) cannot come back through the Linux sshd of
the stand-in tests (exit statuses there are 8 bits).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from imagesmith.core.plugin import CMD_DISCONNECT, BuildInfo, Communicator, LineCallback
from imagesmith.errors import BuildError, Problem
from imagesmith.provisioners import windows_restart
from imagesmith.provisioners.powershell import PowershellConfig, PowershellProvisioner
from imagesmith.provisioners.windows_common import encoded_powershell, flatten_env, ps_escape, upload_elevated_wrapper
from imagesmith.provisioners.windows_restart import WindowsRestartConfig, WindowsRestartProvisioner
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

INFO = BuildInfo(build_name="b", builder_type="null")


class ListUi(Ui):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append((kind, message))


def problems_of(cls: type[Any], raw: dict[str, Any]) -> list[str]:
    problems: list[Problem] = []
    decode_config(cls, raw, render=None, path="", problems=problems)
    return [p.message for p in problems]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Either a script file or inline script must be specified."),
        ({"inline": ["x"], "elevated_password": "p"}, "Must supply an 'elevated_user' if 'elevated_password' provided"),
        ({"inline": ["x"], "execution_policy": "sometimes"}, "Invalid execution policy provided."),
        ({"inline": ["x"], "debug_mode": 3}, "3 is an invalid Trace level for `debug_mode`"),
        ({"inline": ["x"], "scripts": ["/etc/hostname"]}, "Only a script file or an inline script can be specified"),
    ],
)
def test_powershell_config_errors(raw: dict[str, Any], message: str) -> None:
    assert any(p.startswith(message) for p in problems_of(PowershellConfig, raw))


def test_powershell_defaults_match_packer() -> None:
    config = decode_config(PowershellConfig, {"inline": ["x"], "debug_mode": 1}, render=None, path="", problems=[])
    p = PowershellProvisioner(config, INFO)
    assert p.execute_command == (
        'powershell -executionpolicy bypass "& { if (Test-Path variable:global:ProgressPreference)'
        "{set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};Set-PsDebug -Trace 1;"
        ". {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }\""
    )
    assert p.remote_path.startswith("c:/Windows/Temp/script-") and p.retry_timeout == 300
    none = decode_config(
        PowershellConfig, {"inline": ["x"], "execution_policy": "none"}, render=None, path="", problems=[]
    )
    assert PowershellProvisioner(none, INFO).execute_command.startswith("& { if (Test-Path")


def test_escapes_and_encodings() -> None:
    assert ps_escape("a$b\"c`d'e") == "a`$b`\"c``d`'e"
    env = flatten_env(["Z=1", "A=$x"], "b", "null", {}, '$env:%s="%s"; ', ps=True)
    assert env == '$env:A="`$x"; $env:PACKER_BUILDER_TYPE="null"; $env:PACKER_BUILD_NAME="b"; $env:Z="1"; '
    command = encoded_powershell("echo hi")
    assert command.startswith("powershell.exe -EncodedCommand ")
    assert base64.b64decode(command.split()[-1]) == b"e\0c\0h\0o\0 \0h\0i\0"


class Recorder(Communicator):
    """Answers each command from a script of exit codes (or BuildError: not started) and records it."""

    def __init__(self, answers: dict[str, list[int | None]], output: dict[str, str] | None = None) -> None:
        self.answers = answers
        self.output = output or {}
        self.commands: list[str] = []
        self.uploads: dict[str, bytes] = {}

    async def execute(
        self,
        command: str,
        *,
        stdout: LineCallback | None = None,
        stderr: LineCallback | None = None,
        stdin: bytes | None = None,
    ) -> int:
        self.commands.append(command)
        queue = self.answers.get(command, [])
        status = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else 0)
        if status is None:
            raise BuildError("could not start")
        if stdout and command in self.output:
            stdout(self.output[command])
        return status

    async def upload(self, dst: str, src: Path | bytes, mode: int | None = None) -> None:
        self.uploads[dst] = src if isinstance(src, bytes) else src.read_bytes()

    async def upload_dir(self, dst: str, src: Path | str, exclude: Sequence[str] = ()) -> None:
        raise NotImplementedError

    async def download(self, src: str, dst: Path) -> None:
        raise NotImplementedError

    async def download_dir(self, src: str, dst: Path, exclude: Sequence[str] = ()) -> None:
        raise NotImplementedError


def restart(comm: Recorder, raw: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows_restart, "CHECK_INTERVAL", 0.0)
    monkeypatch.setattr(windows_restart, "IN_PROGRESS_WAIT", 0.0)
    config = decode_config(WindowsRestartConfig, raw, render=None, path="", problems=[])
    asyncio.run(WindowsRestartProvisioner(config, INFO).provision(ListUi(), comm, {}))


TRY = windows_restart.TRY_CHECK_REBOOT
CHECK = windows_restart.RESTART_CHECK_COMMAND


def test_restart_loop_waits_while_a_shutdown_is_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    comm = Recorder({TRY: [1190, 1115, 1717, CMD_DISCONNECT, 0]}, {CHECK: "HOST restarted."})
    restart(comm, {}, monkeypatch)
    assert comm.commands == [windows_restart.RESTART_COMMAND, *[TRY] * 5, "shutdown /a", CHECK]


def test_restart_loop_ends_when_the_machine_is_gone_and_checks_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    key_check = encoded_powershell('Test-Path "K1"')
    comm = Recorder({TRY: [1], CHECK: [None, 0, 0]}, {CHECK: "HOST restarted.", key_check: "True"})
    comm.answers[key_check] = [0, 0]
    outputs = iter(["True", "False"])
    original = comm.execute

    async def flip(command: str, **kw: Any) -> int:
        if command == key_check:
            comm.output[key_check] = next(outputs)
        return await original(command, **kw)

    monkeypatch.setattr(comm, "execute", flip)
    restart(comm, {"check_registry": True, "registry_keys": ["K1"], "restart_check_command": "custom"}, monkeypatch)
    assert comm.commands == [windows_restart.RESTART_COMMAND, TRY, "custom", CHECK, CHECK, key_check, CHECK, key_check]


def test_restart_command_failure_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BuildError, match="Restart script exited with non-zero exit status: 5"):
        restart(Recorder({windows_restart.RESTART_COMMAND: [5]}), {}, monkeypatch)
    with pytest.raises(BuildError, match="Timeout waiting for machine to restart"):
        restart(Recorder({TRY: [1]}, {CHECK: "not yet"}), {"restart_timeout": "1s"}, monkeypatch)


def test_elevated_wrapper_escapes_the_command_user_and_password() -> None:
    comm = Recorder({})
    command = asyncio.run(upload_elevated_wrapper(comm, 'run "a" & <b>', "dom\\us$r", 'p"w'))
    [(path, data)] = comm.uploads.items()
    assert command == f'powershell -executionpolicy bypass -file "{path}"'
    text = data.decode()
    assert text.startswith('\n$name = "packer-') and text.endswith("exit $result")
    assert "<Arguments>/c run &#34;a&#34; &amp; &lt;b&gt; &gt; %SYSTEMROOT%/Temp/packer-" in text
    assert "<UserId>dom\\us`$r</UserId>" in text and '$password = "p`"w"' in text

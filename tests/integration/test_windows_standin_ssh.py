"""powershell, windows-shell and windows-restart over SSH against a Windows stand-in, and vs Packer 1.6.6.

Windows cannot run here: the guest is a test sshd on 127.0.0.1 whose commands go to recording
stand-ins of cmd.exe, PowerShell and shutdown (``tests/standins/windows``, see
``windows_standin.py``). One template exercises every option: env-var files (with characters
PowerShell escapes and a sensitive value), scripts and inline lines, valid exit codes, the
elevated-user wrapper (a Task Scheduler XML in a PowerShell script), the cleanup script, cmd's
``set "K=v" &&`` variables, and a restart whose machine drops its next sessions, says a shutdown is
in progress, fails its first check and has a pending-reboot registry key once. The same template
runs through Packer 1.6.6 against the same stand-ins; the ordered remote commands, the uploaded
paths and bytes, the files left, the exit code and the UI lines must be equal.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ..conftest import require_tool, run_cli
from ..packer_oracle import run_packer
from .windows_standin import WinGuest, ui_lines, win_guest, write_template  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
SECRET = "Pa55-w0rd-$ecret"
# Exit codes above 255 (1115, 1190) cannot come back through a Linux sshd: the unit tests cover them.
RESTART = {"down_sessions": 2, "check_failures": 1, "registry_pending": 1, "hostname": "WIN-STANDIN"}


def provisioners(root: Path) -> list[dict[str, Any]]:
    (root / "hello.ps1").write_text('Write-Output "greeting=$env:GREETING build=$env:PACKER_BUILD_NAME"\nexit 3\n')
    (root / "hello.bat").write_text("@echo off\necho bat greeting=%GREETING% type=%PACKER_BUILDER_TYPE%\nexit /b 0\n")
    return [
        {
            "type": "powershell",
            "inline": ['Write-Output "inline quote=$env:QUOTED"', "Write-Host done"],
            "environment_vars": ['QUOTED=it\'s "$x" `y`', "PASSWORD={{user `secret`}}"],
        },
        {
            "type": "powershell",
            "script": "hello.ps1",
            "valid_exit_codes": [0, 3],
            "environment_vars": ["GREETING=hello"],
            "remote_path": "c:/Windows/Temp/hello.ps1",
            "remote_env_var_path": "c:/Windows/Temp/env.ps1",
            "skip_clean": True,
        },
        {
            "type": "powershell",
            "inline": ['Write-Output "elevated as admin"'],
            "elevated_user": "Admin$",
            "elevated_password": "{{user `secret`}}",
            "execution_policy": "remotesigned",
            "environment_vars": ["GREETING=from task"],
        },
        {"type": "powershell", "inline": ['Write-Output "as SYSTEM"'], "elevated_user": "SYSTEM", "debug_mode": 1},
        {"type": "windows-shell", "inline": ["echo inline bat %GREETING%"], "environment_vars": ["GREETING=hi"]},
        {
            "type": "windows-shell",
            "scripts": ["hello.bat"],
            "environment_vars": ["GREETING=batch"],
            "remote_path": "c:/Windows/Temp/hello.bat",
            "start_retry_timeout": "1m",
        },
        {
            "type": "windows-restart",
            "check_registry": True,
            "restart_timeout": "3m",
            "restart_check_command": "powershell -executionpolicy bypass \"& { . c:/none.ps1; &'c:/none.ps1' }\"",
        },
    ]


def build(tool: str, template: Path, guest: WinGuest) -> tuple[int, str]:
    guest.reset(RESTART)
    runner = run_cli if tool == "imagesmith" else run_packer
    done = runner("build", "-machine-readable", str(template), cwd=template.parent, timeout=600)
    return done.returncode, done.stdout + done.stderr


def test_windows_provisioners_stand_in_over_ssh_vs_packer(tmp_path: Path, win_guest: WinGuest) -> None:  # noqa: F811
    template = write_template(
        tmp_path, win_guest, provisioners(tmp_path), variables={"secret": SECRET}, **{"sensitive-variables": ["secret"]}
    )
    status, output = build("imagesmith", template, win_guest)
    assert status == 0, output
    assert SECRET not in output
    events, files = win_guest.events(), win_guest.files()
    ui = ui_lines(output, "Provisioning with Powershell")
    texts = [text for _, text in ui]
    assert 'inline quote=it\'s "$x" `y`' in texts
    assert "greeting=hello build=null" in texts
    assert "elevated as admin" in texts
    assert "inline bat hi" in texts and "bat greeting=batch type=null" in texts
    assert "WIN-STANDIN restarted." in texts and texts[-1] == "Machine successfully restarted, moving on"
    assert (
        "task",
        'powershell -executionpolicy remotesigned "& { if (Test-Path variable:global:ProgressPreference)'
        "{set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};. "
        "c:/Windows/Temp/packer-ps-env-vars-<uuid>.ps1; &'c:/Windows/Temp/script-<uuid>.ps1'; "
        'exit $LastExitCode }"',
    ) in events
    assert ("user", "Admin`$") in events and ("password_set", "True") in events
    assert ("user", "SYSTEM") in events and ("password_set", "False") in events and "as SYSTEM" in texts
    assert (
        "cmd",
        'set "GREETING=hi" && set "PACKER_BUILDER_TYPE=null" && set "PACKER_BUILD_NAME=null" && '
        '"c:/Windows/Temp/script.bat"',
    ) in events
    assert [e[1] for e in events if e[0] == "dropped"] == ['shutdown /r /f /t 60 /c "packer restart test"'] * 2
    env_uploads = [e[2] for e in events if e[0] == "upload" and "packer-ps-env-vars" in e[1]]
    assert 'PASSWORD="<sensitive>"' not in env_uploads[0] and '$env:PASSWORD="Pa55-w0rd-`$ecret"; ' in env_uploads[0]
    assert '$env:QUOTED="it`\'s `"`$x`" ``y``"; ' in env_uploads[0]
    # cleaned: only what skip_clean and windows-shell leave behind
    assert sorted(files) == [
        "c/Windows/Temp/env.ps1",
        "c/Windows/Temp/hello.bat",
        "c/Windows/Temp/hello.ps1",
        "c/Windows/Temp/script.bat",
    ]

    require_tool(shutil.which("packer") is not None, "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    their_status, their_output = build("packer", template, win_guest)
    assert SECRET not in their_output
    assert (status, ui) == (their_status, ui_lines(their_output, "Provisioning with Powershell")), their_output
    assert events == win_guest.events()
    assert files == win_guest.files()


def test_failing_powershell_script_stand_in_vs_packer(tmp_path: Path, win_guest: WinGuest) -> None:  # noqa: F811
    (tmp_path / "fail.ps1").write_text('Write-Error "it broke"\nexit 5\n')
    template = write_template(tmp_path, win_guest, [{"type": "powershell", "script": "fail.ps1"}])
    status, output = build("imagesmith", template, win_guest)
    assert status == 1
    assert "Script exited with non-zero exit status: 5.Allowed exit codes are: [0]" in output
    assert "it broke" in output and "Traceback" not in output
    events, files = win_guest.events(), win_guest.files()
    require_tool(shutil.which("packer") is not None, "needs Packer 1.6.6 as the oracle (apt-get install packer)")
    their_status, their_output = build("packer", template, win_guest)
    assert (status, ui_lines(output, "Provisioning")) == (their_status, ui_lines(their_output, "Provisioning"))
    assert events == win_guest.events()
    assert files == win_guest.files()


def test_windows_example_builds_against_the_stand_in(win_guest: WinGuest) -> None:  # noqa: F811
    win_guest.reset({"hostname": "WIN-EXAMPLE"})
    root = Path(__file__).resolve().parents[2]
    args = ["-var", f"win_port={win_guest.sshd.port}", "-var", "win_user=root", "-var", f"win_key={win_guest.sshd.key}"]
    args += ["-var", "win_password=", "-var", f"admin_password={SECRET}"]
    done = run_cli("build", *args, str(root / "examples" / "windows.json"), cwd=root, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "hello from powershell on build null" in output
    assert "running as the elevated user" in output
    assert "batch says cmd" in output
    assert "WIN-EXAMPLE restarted." in output
    assert SECRET not in output
    assert sorted(win_guest.files()) == ["c/Windows/Temp/script.bat"]  # the rest was cleaned up

"""Pieces shared by the Windows provisioners (powershell, windows-shell, windows-restart).

PowerShell escaping of values (backtick before ``$ " ` '``), the ``powershell.exe -EncodedCommand``
form Packer 1.6.6 takes from its vendored winrm library (every byte of the command followed by a
NUL, then base64), the sorted environment variables a Windows script gets, and the elevated-user
wrapper (``packer-plugin-sdk/guestexec``): a PowerShell script that registers a Task Scheduler task
running the command as ``elevated_user``, follows the task's log file and exits with its result.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from imagesmith.core.generated import http_env
from imagesmith.core.plugin import Communicator
from imagesmith.errors import BuildError
from imagesmith.template.engine.printf import sprintf

_PS_SPECIAL = {"$": "`$", '"': '`"', "`": "``", "'": "`'"}


def ps_escape(text: str) -> str:
    """Escape the characters special to PowerShell in a double-quoted string (Packer's ``psEscape``)."""
    return "".join(_PS_SPECIAL.get(ch, ch) for ch in text)


def encoded_powershell(script: str) -> str:
    """``powershell.exe -EncodedCommand ...`` as Packer 1.6.6's winrm library builds it.

    Each byte of the UTF-8 text is followed by a NUL; a byte of 0x80 or more is first turned into
    the character of that code point and UTF-8 encoded again (Go's ``string(byte)``), which is what
    the library does, not UTF-16.
    """
    wide = b"".join(chr(b).encode() + b"\0" for b in script.encode())
    return f"powershell.exe -EncodedCommand {base64.b64encode(wide).decode()}"


def time_ordered_uuid() -> str:
    """Packer's ``uuid.TimeOrderedUUID``: 32 bits of unix seconds, then 96 random bits."""
    rand = secrets.token_hex(12)
    return f"{int(time.time()) & 0xFFFFFFFF:08x}-{rand[0:4]}-{rand[4:8]}-{rand[8:12]}-{rand[12:24]}"


def flatten_env(
    env_vars: Sequence[str], build_name: str, builder_type: str, data: Mapping[str, str], fmt: str, *, ps: bool
) -> str:
    """The script's variables sorted by key, each through ``fmt`` (Go's ``fmt.Sprintf``).

    ``PACKER_BUILD_NAME``, ``PACKER_BUILDER_TYPE`` and the HTTP server's address come first in the
    map; user values override them and, for PowerShell (``ps``), are escaped with :func:`ps_escape`.
    """
    merged = {"PACKER_BUILD_NAME": build_name, "PACKER_BUILDER_TYPE": builder_type} | http_env(data)
    for kv in env_vars:
        key, _, value = kv.partition("=")
        merged[key] = ps_escape(value) if ps else value
    return "".join(sprintf(fmt, (key, merged[key])) for key in sorted(merged))


def _wrapper_script(task: str, log_file: str, user: str, password: str, command: str, script: str) -> str:
    """The elevated wrapper's text, byte for byte what Packer 1.6.6 uploads."""
    lines = [
        "",
        f'$name = "{task}"',
        f'$log = [System.Environment]::ExpandEnvironmentVariables("{log_file}")',
        '$s = New-Object -ComObject "Schedule.Service"',
        "$s.Connect()",
        "$t = $s.NewTask($null)",
        "$xml = [xml]@'",
        '<?xml version="1.0" encoding="UTF-16"?>',
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
        "  <RegistrationInfo>",
        "    <Description>Packer elevated task</Description>",
        "  </RegistrationInfo>",
        "  <Principals>",
        '    <Principal id="Author">',
        f"      <UserId>{user}</UserId>",
        "      <LogonType>Password</LogonType>",
        "      <RunLevel>HighestAvailable</RunLevel>",
        "    </Principal>",
        "  </Principals>",
        "  <Settings>",
        *_TASK_SETTINGS,
        "  </Settings>",
        '  <Actions Context="Author">',
        "    <Exec>",
        "      <Command>cmd</Command>",
        f"      <Arguments>/c {command}</Arguments>",
        "    </Exec>",
        "  </Actions>",
        "</Task>",
        "'@",
        "$logon_type = 1",
        f'$password = "{password}"',
        *_REGISTER_AND_FOLLOW.format(user=user).split("\n"),
        f'$script = [System.Environment]::ExpandEnvironmentVariables("{script}")',
        *_REMOVE_AND_EXIT.split("\n"),
    ]
    return "\n".join(lines)


_TASK_SETTINGS = [
    "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
    "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>",
    "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>",
    "    <AllowHardTerminate>true</AllowHardTerminate>",
    "    <StartWhenAvailable>false</StartWhenAvailable>",
    "    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>",
    "    <IdleSettings>",
    "      <StopOnIdleEnd>false</StopOnIdleEnd>",
    "      <RestartOnIdle>false</RestartOnIdle>",
    "    </IdleSettings>",
    "    <AllowStartOnDemand>true</AllowStartOnDemand>",
    "    <Enabled>true</Enabled>",
    "    <Hidden>false</Hidden>",
    "    <RunOnlyIfIdle>false</RunOnlyIfIdle>",
    "    <WakeToRun>false</WakeToRun>",
    "    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
    "    <Priority>4</Priority>",
]
# Without a password the task runs as a service account (logon type 5): the LogonType node goes.
_REGISTER_AND_FOLLOW = """if ($password.Length -eq 0) {{
  $logon_type = 5
  $password = $null
  $ns = New-Object System.Xml.XmlNamespaceManager($xml.NameTable)
  $ns.AddNamespace("ns", $xml.DocumentElement.NamespaceURI)
  $node = $xml.SelectSingleNode("/ns:Task/ns:Principals/ns:Principal/ns:LogonType", $ns)
  $node.ParentNode.RemoveChild($node) | Out-Null
}}
$t.XmlText = $xml.OuterXml
if (Test-Path variable:global:ProgressPreference){{$ProgressPreference="SilentlyContinue"}}
$f = $s.GetFolder("\\")
$f.RegisterTaskDefinition($name, $t, 6, "{user}", $password, $logon_type, $null) | Out-Null
$t = $f.GetTask("\\$name")
$t.Run($null) | Out-Null
$timeout = 10
$sec = 0
while ((!($t.state -eq 4)) -and ($sec -lt $timeout)) {{
  Start-Sleep -s 1
  $sec++
}}

$line = 0
do {{
  Start-Sleep -m 100
  if (Test-Path $log) {{
    Get-Content $log | select -skip $line | ForEach {{
      $line += 1
      Write-Output "$_"
    }}
  }}
}} while (!($t.state -eq 3))
$result = $t.LastTaskResult
if (Test-Path $log) {{
    Remove-Item $log -Force -ErrorAction SilentlyContinue | Out-Null
}}
"""
_REMOVE_AND_EXIT = """if (Test-Path $script) {
    Remove-Item $script -Force -ErrorAction SilentlyContinue | Out-Null
}
$f = $s.GetFolder("\\")
$f.DeleteTask("\\$name", "")

[System.Runtime.Interopservices.Marshal]::ReleaseComObject($s) | Out-Null
exit $result"""


async def upload_elevated_wrapper(comm: Communicator, command: str, user: str, password: str) -> str:
    """Upload the Task Scheduler wrapper running ``command`` as ``user``; the command that runs it.

    The command's output goes to ``%SYSTEMROOT%/Temp/packer-<uuid>.out``, which the wrapper
    follows; the command is XML-escaped into the task's ``<Arguments>``, user and password are
    PowerShell-escaped.
    """
    task = f"packer-{time_ordered_uuid()}"
    log_file = f"%SYSTEMROOT%/Temp/{task}.out"
    redirected = f"{command} > {log_file} 2>&1"
    xml_command = escape(redirected, {'"': "&#34;", "'": "&#39;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"})
    path = f"C:/Windows/Temp/packer-elevated-shell-{time_ordered_uuid()}.ps1"
    text = _wrapper_script(task, log_file, ps_escape(user), ps_escape(password), xml_command, path)
    try:
        await comm.upload(path, text.encode())
    except BuildError as exc:
        raise BuildError(f"Error preparing elevated powershell script: {exc}") from exc
    return f'powershell -executionpolicy bypass -file "{path}"'

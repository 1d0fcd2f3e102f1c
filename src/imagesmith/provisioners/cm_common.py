"""What the configuration-management provisioners share: guest commands, staging, uploads, runs.

Packer 1.6.6's puppet-masterless, salt-masterless, ansible-local and chef-solo provisioners each
carry their own copy of this (``createDir``, ``uploadDirectory``, ``RunWithUi`` …); here it is once.
Guest commands follow ``packer-plugin-sdk/guestexec``: ``mkdir -p 'd'``, ``chmod 0777 'd'``,
``rm -rf 'd'``, ``stat 'p'``, ``mv 'a' 'b'``, each prefixed with ``sudo `` unless sudo is off
(Unix only; Windows gets PowerShell one-liners and no sudo).

Files are uploaded as bytes, which is what Packer's ``Upload(dst, reader, nil)`` amounts to: the
communicator picks the mode (0600 through docker, 0644 over SSH), exactly as for Packer.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import secrets
import stat
import time
from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from imagesmith.core.plugin import BuildInfo, Communicator, Provisioner
from imagesmith.errors import BuildError
from imagesmith.template.decode import option
from imagesmith.ui import Ui

UNIX = "unix"
WINDOWS = "windows"
GUEST_OS_TYPES = (UNIX, WINDOWS)

_UNIX_COMMANDS = {
    "chmod": "chmod {mode} '{path}'",
    "mkdir": "mkdir -p '{path}'",
    "rmdir": "rm -rf '{path}'",
    "stat": "stat '{path}'",
    "mv": "mv '{src}' '{dst}'",
}
_WINDOWS_COMMANDS = {
    "chmod": "echo 'skipping chmod {mode} {path}'",
    "mkdir": 'powershell.exe -Command "New-Item -ItemType directory -Force -ErrorAction SilentlyContinue -Path {path}"',
    "rmdir": 'powershell.exe -Command "rm {path} -recurse -force"',
    "stat": "powershell.exe -Command { if (test-path {path}) { exit 0 } else { exit 1 } }",
    "mv": 'powershell.exe -Command "mv {src} {dst} -force"',
}


@dataclass(frozen=True)
class GuestCommands:
    """The shell commands for one guest OS type, with or without ``sudo`` (``guestexec.GuestCommands``)."""

    os_type: str = UNIX
    sudo: bool = True

    def _make(self, name: str, **args: str) -> str:
        table = _WINDOWS_COMMANDS if self.os_type == WINDOWS else _UNIX_COMMANDS
        if self.os_type == WINDOWS:
            args = {k: v.replace(" ", "` ") if k != "mode" else v for k, v in args.items()}
        command = table[name].format(**args)
        return f"sudo {command}" if self.sudo and self.os_type == UNIX else command

    def chmod(self, path: str, mode: str) -> str:
        return self._make("chmod", path=path, mode=mode)

    def create_dir(self, path: str) -> str:
        return self._make("mkdir", path=path)

    def remove_dir(self, path: str) -> str:
        return self._make("rmdir", path=path)

    def stat_path(self, path: str) -> str:
        return self._make("stat", path=path)

    def move_path(self, src: str, dst: str) -> str:
        return self._make("mv", src=src, dst=dst)


async def run_command(ui: Ui, comm: Communicator, command: str) -> int:
    """Packer's ``RemoteCmd.RunWithUi``: stdout lines go to ``ui.message``, stderr lines to ``ui.error``."""
    return await comm.execute(command, stdout=ui.message, stderr=ui.error)


async def run_checked(ui: Ui, comm: Communicator, command: str, failure: str = "Non-zero exit status.") -> None:
    """Run ``command``; a non-zero exit status raises ``failure``."""
    if await run_command(ui, comm, command) != 0:
        raise BuildError(failure)


async def create_dir(ui: Ui, comm: Communicator, guest: GuestCommands, path: str, *, chmod: bool = True) -> None:
    """``Creating directory: D``, ``mkdir -p``, then (``chmod``) ``chmod 0777`` so any user can write there."""
    ui.message(f"Creating directory: {path}")
    failure = "Non-zero exit status. See output above for more info."
    await run_checked(ui, comm, guest.create_dir(path), failure)
    if chmod:
        await run_checked(ui, comm, guest.chmod(path, "0777"), failure)


async def upload_dir_contents(
    ui: Ui, comm: Communicator, guest: GuestCommands, dst: str, src: str, *, chmod: bool = True
) -> None:
    """Create ``dst`` and copy the *contents* of the local directory ``src`` into it."""
    await create_dir(ui, comm, guest, dst, chmod=chmod)
    await comm.upload_dir(dst, src if src.endswith("/") else src + "/")


async def upload_file(comm: Communicator, dst: str, src: str) -> None:
    """Upload a local file the way Packer uploads a reader (the communicator's default mode)."""
    try:
        content = await asyncio.to_thread(Path(src).read_bytes)
    except OSError as exc:
        raise BuildError(f"Error opening: {go_path_error('open', src, exc)}") from exc
    await comm.upload(dst, content)


def go_path_error(op: str, path: str, exc: OSError) -> str:
    """An ``*os.PathError`` as Go prints it: ``stat x: no such file or directory``."""
    reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
    return f"{op} {path}: {reason}"


def stat_error(path: str) -> tuple[str | None, bool]:
    """(Go's ``os.Stat`` error text or None, whether ``path`` is a directory)."""
    try:
        st = os.stat(path)  # follows symlinks, as Go's os.Stat
    except OSError as exc:
        return go_path_error("stat", path, exc), False
    return None, stat.S_ISDIR(st.st_mode)


def go_join(*parts: str) -> str:
    """Go's ``filepath.Join`` on a Unix host: skip empty parts, join with ``/``, clean."""
    kept = [p for p in parts if p]
    if not kept:
        return ""
    joined = posixpath.normpath("/".join(kept))
    return joined[1:] if joined.startswith("//") else joined


def time_ordered_uuid() -> str:
    """Packer's ``uuid.TimeOrderedUUID``: 32 bits of Unix seconds, then 96 random bits."""
    stamp = int(time.time()) & 0xFFFFFFFF
    rand = secrets.token_hex(12)
    return f"{stamp:08x}-{rand[0:4]}-{rand[4:8]}-{rand[8:12]}-{rand[12:24]}"


def render_runtime(text: str, data: Mapping[str, Any] | None, info: BuildInfo, what: str) -> str:
    """Render a run-time field (execute_command, solo.rb, ...) through the core's one run-time render;
    a template error becomes a :class:`BuildError` that names ``what`` was being rendered."""
    from imagesmith.core.render import render_runtime as render

    return render(text, info, data, error=f"Error rendering {what}: ")


async def remove_staging(ui: Ui, comm: Communicator, guest: GuestCommands, path: str) -> None:
    """Remove a staging directory after a failed run (best effort; the failure itself is what counts)."""
    try:
        status = await run_command(ui, comm, guest.remove_dir(path))
    except BuildError as exc:
        ui.error(f"Could not remove the staging directory {path}: {exc}")
        return
    if status != 0:
        ui.error(f"Could not remove the staging directory {path} (exit status {status})")


def check_guest_os_type(value: str) -> str | None:
    """Packer's ``Invalid guest_os_type: "x"`` when ``value`` (lowercased) is neither unix nor windows."""
    if (value or UNIX).lower() not in GUEST_OS_TYPES:
        return f'Invalid guest_os_type: "{value.lower()}"'
    return None


class GuestOsOptions:
    """The ``guest_os_type`` prologue of a config's checks (chef, puppet, salt).

    A config dataclass inherits this and declares its own ``guest_os_type`` field; ``check`` reports an
    unknown OS type alone (the other checks depend on it) and otherwise runs ``check_options``.
    """

    guest_os_type: str

    @property
    def os_type(self) -> str:
        """``unix`` or ``windows`` (an empty value is ``unix``)."""
        return (self.guest_os_type or UNIX).lower()

    def check(self) -> Iterator[str]:
        if problem := check_guest_os_type(self.guest_os_type):
            yield problem
            return
        yield from self.check_options()

    def check_options(self) -> Iterator[str]:
        """The config's own checks, run once the OS type is known to be valid."""
        return iter(())


async def with_prefix(prefix: str, work: Awaitable[None]) -> None:
    """Await ``work``; prefix a failure with Packer's wording for that step (``Error uploading X: ...``)."""
    try:
        await work
    except BuildError as exc:
        raise BuildError(f"{prefix}: {exc}") from exc


def encode_go_json_indent(value: Any) -> str:
    """``json.MarshalIndent(value, "", "  ")`` as Go 1.15 writes it (Packer 1.6.6's chef node.json).

    Sorted keys, ``<>&`` and U+2028/U+2029 escaped, control characters as ``\\u00XX`` (only ``\\n``,
    ``\\r``, ``\\t`` short), numbers as float64 in Go's shortest form, no final newline.
    """
    return _encode_go(value, "")


def _encode_go(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{_go_string(str(k))}: {_encode_go(value[k], inner)}" for k in sorted(value, key=str)]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + _encode_go(v, inner) for v in value) + "\n" + indent + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    return _go_string(str(value))


_GO_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _go_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _GO_SHORT_ESCAPES:
            out.append(_GO_SHORT_ESCAPES[ch])
        elif ch < " " or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _go_float(number: float) -> str:
    """Go's encoding/json float64: plain decimal unless tiny (< 1e-6) or huge (>= 1e21)."""
    if number != number or number in (float("inf"), float("-inf")):
        raise BuildError(f"json: unsupported value: {number}")
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(number)
        mantissa, _, exponent = text.partition("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits}"
    return format(Decimal(repr(number)).normalize(), "f")


def encode_go_json_string_map(value: Mapping[str, str]) -> str:
    """``json.Marshal`` of a Go ``map[string]string``: sorted keys, compact, ``<>&`` escaped."""
    return "{" + ",".join(f"{_go_string(k)}:{_go_string(value[k])}" for k in sorted(value)) + "}"


CHEF_UNIX_INSTALL = (
    "curl -L https://omnitruck.chef.io/install.sh | {{if .Sudo}}sudo {{end}}bash -s --"
    "{{if .Version}} -v {{.Version}}{{end}}"
)
CHEF_WINDOWS_INSTALL = (
    'powershell.exe -Command ". { iwr -useb https://omnitruck.chef.io/install.ps1 } | iex; '
    'Install-Project{{if .Version}} -version {{.Version}}{{end}}"'
)


@dataclass(frozen=True)
class ChefOptions(GuestOsOptions):
    """The options chef-solo and chef-client share (Packer gives each provisioner its own copy)."""

    chef_environment: str = option("")
    chef_license: str = option("")
    config_template: str = option("")
    encrypted_data_bag_secret_path: str = option("")
    execute_command: str = option("", render=False)
    install_command: str = option("", render=False)
    guest_os_type: str = option("")
    json: dict[str, Any] = option(factory=dict)
    prevent_sudo: bool = option(False)
    run_list: list[str] = option(factory=list)
    skip_install: bool = option(False)
    staging_directory: str = option("")
    version: str = option("")

    def check_config_template(self) -> Iterator[str]:
        if self.config_template:
            err, is_dir = stat_error(self.config_template)
            if err:
                yield f"Bad config template path: {err}"
            elif is_dir:
                yield f"Config template path must be a file: {self.config_template}"

    def check_secret(self) -> Iterator[str]:
        if self.encrypted_data_bag_secret_path:
            err, is_dir = stat_error(self.encrypted_data_bag_secret_path)
            if err or is_dir:
                why = err or "is a directory"
                yield f"Bad encrypted data bag secret '{self.encrypted_data_bag_secret_path}': {why}"


def make_chef_json(config: ChefOptions) -> bytes:
    """node.json / first-boot.json: ``json`` with ``run_list`` set when given, as Go's
    ``json.MarshalIndent(v, "", "  ")``."""
    data = dict(config.json)
    if config.run_list:
        data["run_list"] = list(config.run_list)
    return encode_go_json_indent(data).encode()


class ChefProvisioner(Provisioner):
    """The prologue of chef-solo and chef-client: defaults for the commands, staging and license,
    the install step and the one run-time render. Subclasses name their defaults."""

    unix_execute: str
    windows_execute: str
    staging_defaults: Mapping[str, str]
    #: chef-client shows the install command before running it; chef-solo does not
    show_install_command = False

    def __init__(self, config: ChefOptions, info: BuildInfo) -> None:
        super().__init__(config, info)
        windows = config.os_type == WINDOWS
        default_install = CHEF_WINDOWS_INSTALL if windows else CHEF_UNIX_INSTALL
        self.guest = GuestCommands(config.os_type, sudo=not config.prevent_sudo)
        self.execute_command = config.execute_command or (self.windows_execute if windows else self.unix_execute)
        self.install_command = config.install_command or default_install
        self.staging = config.staging_directory or self.staging_defaults[config.os_type]
        self.license = config.chef_license
        if not config.skip_install and self.install_command == default_install and not self.license:
            self.license = "accept-silent"

    async def install_chef(self, ui: Ui, comm: Communicator) -> None:
        ui.message("Installing Chef...")
        fields = {"Sudo": not self.config.prevent_sudo, "Version": self.config.version}
        command = self.render(self.install_command, fields, "install_command")
        if self.show_install_command:
            ui.message(command)
        status = await run_command(ui, comm, command)
        if status != 0:
            raise BuildError(f"Install script exited with non-zero exit status {status}")

    def render(self, text: str, fields: Mapping[str, Any], what: str) -> str:
        """The one place a chef provisioner renders templates at run time."""
        return render_runtime(text, fields, self.info, what)

"""``run_command`` (``docker run`` flags, as Packer passes them to the CLI) read into an Engine API request.

Packer's ``run_command`` is a list of ``docker run`` arguments; imagesmith creates the container over
the API, so it reads the flags templates use (:data:`VALUE_FLAGS`, :data:`BOOL_FLAGS`). Any other flag
makes :func:`parse_run_command` return None and the driver starts the container with the docker CLI
as Packer does (same result, one process more).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

#: flags taking a value: long name → canonical name (short forms map to the same)
VALUE_FLAGS = {
    "--entrypoint": "entrypoint",
    "-u": "user", "--user": "user",
    "-e": "env", "--env": "env",
    "-w": "workdir", "--workdir": "workdir",
    "--name": "name",
    "--network": "network", "--net": "network",
    "-h": "hostname", "--hostname": "hostname",
    "-l": "label", "--label": "label",
    "-v": "volume", "--volume": "volume",
    "--cap-add": "cap_add", "--cap-drop": "cap_drop",
    "--tmpfs": "tmpfs",
    "--device": "device",
    "--platform": "platform",
}  # fmt: skip
BOOL_FLAGS = {
    "-d": "detach", "--detach": "detach",
    "-i": "interactive", "--interactive": "interactive",
    "-t": "tty", "--tty": "tty",
    "--privileged": "privileged",
    "--rm": "rm",
    "--init": "init",
}  # fmt: skip
_SHORT_BOOLS = {"d", "i", "t"}


@dataclass
class RunFlags:
    """What the flags of one ``run_command`` ask for."""

    image: str = ""
    command: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    switches: dict[str, bool] = field(default_factory=dict)

    def last(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[-1] if found else None

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name, []))


def _bool_value(text: str) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get(text.lower())


def _read_flag(flags: RunFlags, args: Sequence[str], index: int) -> int | None:
    """Read the flag at ``args[index]``; return the index after it, or None if it is not understood."""
    arg = args[index]
    name, eq, inline = arg.partition("=")
    if name in BOOL_FLAGS:
        value = _bool_value(inline) if eq else True
        if value is None:
            return None
        flags.switches[BOOL_FLAGS[name]] = value
        return index + 1
    if name in VALUE_FLAGS:
        if not eq:
            if index + 1 >= len(args):
                return None
            inline, index = args[index + 1], index + 1
        flags.values.setdefault(VALUE_FLAGS[name], []).append(inline)
        return index + 1
    if len(arg) > 2 and not arg.startswith("--") and set(arg[1:]) <= _SHORT_BOOLS:  # -dit
        for letter in arg[1:]:
            flags.switches[BOOL_FLAGS[f"-{letter}"]] = True
        return index + 1
    if len(arg) > 2 and not arg.startswith("--") and f"{arg[:2]}" in VALUE_FLAGS:  # -u1000
        flags.values.setdefault(VALUE_FLAGS[arg[:2]], []).append(arg[2:])
        return index + 1
    return None


def parse_run_command(args: Sequence[str]) -> RunFlags | None:
    """The flags, image and command of a rendered ``run_command``; None when a flag is not understood."""
    flags = RunFlags()
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        next_index = _read_flag(flags, args, index)
        if next_index is None:
            return None
        index = next_index
    if index >= len(args):
        return None
    flags.image, flags.command = args[index], list(args[index + 1 :])
    return flags


def env_entry(entry: str) -> str | None:
    """``-e NAME`` takes NAME's value from imagesmith's environment, as the CLI does (or drops it)."""
    if "=" in entry:
        return entry
    return f"{entry}={os.environ[entry]}" if entry in os.environ else None


def device_mapping(spec: str) -> dict[str, str]:
    """``--device host[:container[:permissions]]`` as the API's DeviceMapping."""
    parts = spec.split(":")
    host = parts[0]
    inside = parts[1] if len(parts) > 1 and parts[1] else host
    permissions = parts[2] if len(parts) > 2 else "rwm"
    if len(parts) == 2 and set(parts[1]) <= set("rwm"):
        inside, permissions = host, parts[1]
    return {"PathOnHost": host, "PathInContainer": inside, "CgroupPermissions": permissions}


def tmpfs_mounts(specs: Sequence[str]) -> dict[str, str]:
    """``--tmpfs path[:options]`` entries as the API's Tmpfs map."""
    mounts: dict[str, str] = {}
    for spec in specs:
        path, _, options = spec.partition(":")
        mounts[path] = options
    return mounts


def labels(specs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        key, _, value = spec.partition("=")
        out[key] = value
    return out

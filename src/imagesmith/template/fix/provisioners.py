"""Fixers for provisioners: ``powershell-escapes`` and ``galaxy-command``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from imagesmith.template.fix.mapdecode import (
    DecodeError,
    FixError,
    Template,
    decode_list,
    decode_map,
    field_value,
    go_kind,
)

_PS_ESCAPE = re.compile("`([$\"`'])")


def _fix_each_provisioner(template: Template, change: Callable[[dict[str, Any], str], bool]) -> Template:
    """Each provisioner that decodes as an object is copied, changed and written back when ``change`` says so.

    Like Packer, a single non-list ``provisioners`` value is first lifted into a list, and the list
    is written back only when it is not empty.
    """
    out = template
    provisioners = decode_list(field_value(out, "Provisioners"), "Provisioners", weak=True) or []
    for index, raw in enumerate(provisioners):
        try:
            provisioner = decode_map(raw)
        except DecodeError:
            continue  # Packer ignores provisioners that are not objects here
        if provisioner is not None and change(provisioner, f"provisioners[{index}]"):
            provisioners[index] = provisioner
    if provisioners:
        out["provisioners"] = provisioners
    return out


def _unescape(value: Any, where: str) -> str:
    if not isinstance(value, str):  # Packer 1.6.6 crashes here
        raise FixError(f"{where}: expected a string, got {go_kind(value)}")
    return _PS_ESCAPE.sub(r"\1", value)


def _unescape_env(value: Any) -> list[Any] | None:
    """``environment_vars`` unescaped, or None when it is not a list of strings (Packer then skips the provisioner)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(item is None or isinstance(item, str) for item in value):
        return None
    return [_PS_ESCAPE.sub(r"\1", item or "") for item in value]


def fix_powershell_escapes(template: Template) -> Template:
    """``powershell``: PowerShell backtick escapes are removed from elevated credentials and environment_vars."""

    def change(provisioner: dict[str, Any], where: str) -> bool:
        if provisioner.get("type") != "powershell":
            return False
        for key in ("elevated_user", "elevated_password"):
            if key in provisioner:
                provisioner[key] = _unescape(provisioner[key], f"{where}.{key}")
        if "environment_vars" in provisioner:
            env = _unescape_env(provisioner["environment_vars"])
            if env is None:
                return False
            provisioner["environment_vars"] = env
        return True

    return _fix_each_provisioner(template, change)


def fix_galaxy_command(template: Template) -> Template:
    """``ansible-local``: string ``galaxycommand`` becomes ``galaxy_command``; dropped when that is set."""

    def change(provisioner: dict[str, Any], where: str) -> bool:
        if provisioner.get("type") != "ansible-local":
            return False
        if "galaxy_command" in provisioner:
            provisioner.pop("galaxycommand", None)
            return True
        value = provisioner.get("galaxycommand")
        if not isinstance(value, str):
            return False
        del provisioner["galaxycommand"]
        provisioner["galaxy_command"] = value
        return True

    return _fix_each_provisioner(template, change)

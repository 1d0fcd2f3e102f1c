"""Fixers for communicator options: ``sshkeypath``, ``sshdisableagent``, ``comm-config``, ``ssh-wait-timeout``."""

from __future__ import annotations

from collections.abc import Callable

from imagesmith.template.fix.mapdecode import (
    Builder,
    DecodeError,
    Template,
    decode_list,
    decode_map,
    field_value,
    fix_builders,
)


def fix_ssh_key_path(template: Template) -> Template:
    """A string ``ssh_key_path`` becomes ``ssh_private_key_file`` unless that is already set."""

    def change(builder: Builder, where: str) -> None:
        value = builder.get("ssh_key_path")
        if isinstance(value, str):
            builder.setdefault("ssh_private_key_file", value)
            del builder["ssh_key_path"]

    return fix_builders(template, change)


def fix_ssh_disable_agent(template: Template) -> Template:
    """A boolean ``ssh_disable_agent`` becomes ``ssh_disable_agent_forwarding`` unless that is set."""

    def change(builder: Builder, where: str) -> None:
        value = builder.get("ssh_disable_agent")
        if isinstance(value, bool):
            builder.setdefault("ssh_disable_agent_forwarding", value)
            del builder["ssh_disable_agent"]

    return fix_builders(template, change)


def _fix_each_builder_map(template: Template, change: Callable[[Builder], bool]) -> Template:
    """Packer's weak-decode shape: each builder that decodes as an object is copied, changed, written back.

    ``change(builder)`` returns False to leave the original element untouched.
    """
    out = template
    builders = decode_list(field_value(out, "Builders"), "Builders", weak=True) or []
    for index, raw in enumerate(builders):
        try:
            builder = decode_map(raw)
        except DecodeError:
            continue  # Packer ignores non-objects here
        if builder is not None and change(builder):
            builders[index] = builder
    if builders:
        out["builders"] = builders
    return out


def _move_unless_present(builder: Builder, old: str, new: str, want: type | None = None) -> None:
    if new in builder:
        builder.pop(old, None)
    elif old in builder and (want is None or isinstance(builder[old], want)):
        builder[new] = builder.pop(old)


def fix_comm_config(template: Template) -> Template:
    """``ssh_host_port_min/max`` and ``ssh_skip_nat_mapping`` lose their ``ssh_`` prefix (virtualbox builders).

    Improvement: Packer 1.6.6 crashes on a builder without a string ``type`` (or a ``null`` builder);
    such builders are left as they are here, for ``-validate`` to report.
    """

    def change(builder: Builder) -> bool:
        kind = builder.get("type")
        if not isinstance(kind, str) or not kind.startswith("virtualbox"):
            return False
        _move_unless_present(builder, "ssh_host_port_min", "host_port_min")
        _move_unless_present(builder, "ssh_host_port_max", "host_port_max")
        _move_unless_present(builder, "ssh_skip_nat_mapping", "skip_nat_mapping", bool)
        return True

    return _fix_each_builder_map(template, change)


def fix_ssh_wait_timeout(template: Template) -> Template:
    """A string ``ssh_wait_timeout`` becomes ``ssh_timeout``; dropped when ``ssh_timeout`` is set (any builder)."""

    def change(builder: Builder) -> bool:
        if "ssh_timeout" in builder:
            builder.pop("ssh_wait_timeout", None)
            return True
        value = builder.get("ssh_wait_timeout")
        if not isinstance(value, str):
            return False
        del builder["ssh_wait_timeout"]
        builder["ssh_timeout"] = value
        return True

    return _fix_each_builder_map(template, change)

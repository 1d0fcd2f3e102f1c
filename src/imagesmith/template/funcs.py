"""Packer 1.6.6's template functions (``interpolate/funcs.go``), bound to a :class:`RenderContext`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

from imagesmith.template import secrets_backends
from imagesmith.template.context import RenderContext
from imagesmith.template.engine.functions import FuncError, GoFunc
from imagesmith.template.gotime import RFC3339, format_go_time, format_strftime

#: Names of Packer's functions; the parser needs them before any context exists.
PACKER_FUNC_NAMES = frozenset(
    {
        "build_name", "build_type", "env", "isotime", "strftime", "pwd", "split", "template_dir",
        "timestamp", "uuid", "user", "packer_version", "consul_key", "vault", "sed", "build",
        "aws_secretsmanager", "replace", "replace_all", "upper", "lower",
    }
)  # fmt: skip

#: Text a builder puts in generated data whose value is only known later (packerbuilderdata.PlaceholderMsg).
PLACEHOLDER_MSG = "To set this dynamically in the Packer template, you must use the `build` function"

SED_DEPRECATED = (
    "template function `sed` is deprecated use `replace` or `replace_all` instead."
    "Documentation: https://www.packer.io/docs/templates/engine"
)


def time_ordered_uuid(ctx: RenderContext) -> str:
    """Packer's TimeOrderedUUID: 32 bits of unix seconds, then 96 random bits."""
    unix = int(ctx.init_time.timestamp()) & 0xFFFFFFFF
    rand = secrets.token_hex(12)
    return f"{unix:08x}-{rand[0:4]}-{rand[4:8]}-{rand[8:12]}-{rand[12:24]}"


def split(text: str, sep: str, index: int) -> str:
    """``split STR SEP IDX``: Go's strings.Split, then one element."""
    parts = _go_split(text, sep)
    if index < 0:
        raise FuncError(f"runtime error: index out of range [{index}]")  # Go panics here
    if index >= len(parts):
        raise FuncError(
            f"the substring {index} was unavailable using the separator value, {sep}, "
            f"only {len(parts)} values were found"
        )
    return parts[index]


def _go_split(text: str, sep: str) -> list[str]:
    if sep == "":
        return list(text)  # Go splits into UTF-8 sequences
    return text.split(sep)


def replace(old: str, new: str, count: int, src: str) -> str:
    """``replace OLD NEW N SRC``: Go's strings.Replace (N < 0 = all)."""
    if old == "" and count != 0:
        return _replace_empty(src, new, count)
    return src.replace(old, new, count if count >= 0 else -1)


def _replace_empty(src: str, new: str, count: int) -> str:
    # Go inserts ``new`` before each rune and at the end, up to ``count`` times.
    slots = len(src) + 1
    limit = slots if count < 0 else min(count, slots)
    out = []
    for i in range(slots):
        if i < limit:
            out.append(new)
        if i < len(src):
            out.append(src[i])
    return "".join(out)


def replace_all(old: str, new: str, src: str) -> str:
    """``replace_all OLD NEW SRC``: Go's strings.ReplaceAll."""
    return replace(old, new, -1, src)


def _build_value(ctx: RenderContext, key: str) -> str:
    if ctx.build_passthrough:
        return "{{." + key + "}}"
    data = ctx.data
    if not isinstance(data, Mapping):
        raise FuncError(
            f"Error validating build variable: the given variable {key} will not be passed into your plugin."
        )
    value = data.get(key)
    if isinstance(value, str):
        return "{{." + key + "}}" if PLACEHOLDER_MSG in value else value
    raise FuncError(f"loaded data, but couldnt find {key} in it.")


def _user(ctx: RenderContext, name: str) -> str:
    if ctx.user_vars is None:
        raise FuncError("test")
    if name in ctx.user_vars:
        return ctx.user_vars[name]
    if ctx.in_variables:
        raise FuncError(f"Error: variable not set: {name}")
    return ""


def _need(value: str | None, what: str) -> str:
    if not value:
        raise FuncError(f"{what} not available")
    return value


def _only_in_variables(ctx: RenderContext, message: str) -> None:
    if not ctx.enable_env:
        raise FuncError(message)


def _isotime(ctx: RenderContext, *layout: str) -> str:
    if len(layout) > 1:
        raise FuncError(f"too many values, 1 needed: [{' '.join(layout)}]")
    return format_go_time(ctx.init_time, layout[0] if layout else RFC3339)


def _template_dir(ctx: RenderContext) -> str:
    if not ctx.template_path:
        raise FuncError("template path not available")
    return os.path.abspath(os.path.dirname(ctx.template_path))


def _env(ctx: RenderContext, key: str) -> str:
    _only_in_variables(ctx, "env vars are not allowed here")
    return os.environ.get(key, "")


def _consul(ctx: RenderContext, key: str) -> str:
    _only_in_variables(ctx, "consul_key is not allowed here")
    return secrets_backends.consul_key(key)


def _vault(ctx: RenderContext, path: str, key: str) -> str:
    _only_in_variables(ctx, "Vault vars are only allowed in the variables section")
    return secrets_backends.vault(path, key)


def _aws(ctx: RenderContext, *args: str) -> str:
    _only_in_variables(ctx, "AWS Secrets Manager is only allowed in the variables section")
    if not args:
        raise FuncError("secret name must be provided")
    if len(args) > 2:
        raise FuncError("only secret name and optional secret key can be provided.")
    return secrets_backends.aws_secret(args[0], args[1] if len(args) == 2 else "")


def _sed(expression: str, text: str) -> str:
    raise FuncError(SED_DEPRECATED)


def make_packer_funcs(ctx: RenderContext) -> dict[str, GoFunc]:
    """Packer's function map bound to ``ctx`` (Go's ``interpolate.Funcs``)."""
    s = "string"
    funcs: dict[str, GoFunc] = {
        "build_name": GoFunc(lambda: _need(ctx.build_name, "build_name")),
        "build_type": GoFunc(lambda: _need(ctx.build_type, "build_type")),
        "env": GoFunc(lambda k: _env(ctx, k), (s,)),
        "isotime": GoFunc(lambda *a: _isotime(ctx, *a), (), s),
        "strftime": GoFunc(lambda f: format_strftime(ctx.init_time, f), (s,)),
        "pwd": GoFunc(os.getcwd),
        "split": GoFunc(split, (s, s, "int")),
        "template_dir": GoFunc(lambda: _template_dir(ctx)),
        "timestamp": GoFunc(lambda: str(int(ctx.init_time.timestamp()))),
        "uuid": GoFunc(lambda: time_ordered_uuid(ctx)),
        "user": GoFunc(lambda k: _user(ctx, k), (s,)),
        "packer_version": GoFunc(lambda: _need(ctx.packer_version, "packer_version")),
        "consul_key": GoFunc(lambda k: _consul(ctx, k), (s,)),
        "vault": GoFunc(lambda p, k: _vault(ctx, p, k), (s, s)),
        "sed": GoFunc(_sed, (s, s)),
        "build": GoFunc(lambda k: _build_value(ctx, k), (s,)),
        "aws_secretsmanager": GoFunc(lambda *a: _aws(ctx, *a), (), s),
        "replace": GoFunc(replace, (s, s, "int", s)),
        "replace_all": GoFunc(replace_all, (s, s, s)),
        "upper": GoFunc(_upper, (s,)),
        "lower": GoFunc(_lower, (s,)),
    }
    return funcs


def _upper(text: str) -> str:
    # Go maps rune by rune (simple case mapping): "ß" stays "ß" where Python would give "SS".
    return "".join(u if len(u := c.upper()) == 1 else c for c in text)


def _lower(text: str) -> str:
    # Only U+0130 lowercases to two code points in Python; Go's simple mapping gives "i".
    return "".join(c.lower()[0] for c in text)

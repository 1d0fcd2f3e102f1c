"""Fixers for post-processors: ``pp-vagrant-override``, ``manifest-filename``, ``docker-email``, ``docker-tag-tags``.

Each does nothing unless the template has a non-null ``post-processors``; objects inside
sequences are fixed too.
"""

from __future__ import annotations

from typing import Any

from imagesmith.template.fix.mapdecode import (
    FixError,
    Template,
    decode_builders,
    decode_list,
    fix_post_processors,
    go_kind,
    iter_builders,
    pp_list,
)

_VAGRANT_PROVIDERS = ("aws", "digitalocean", "virtualbox", "vmware")
# Go's unicode.IsSpace (str.strip() would also strip \x1c-\x1f)
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _is_type(pp: dict[str, Any], name: str) -> bool:
    return pp.get("type") == name


def fix_vagrant_override(template: Template) -> Template:
    """``vagrant``: provider sections (aws, digitalocean, virtualbox, vmware) move under ``override``."""

    def change(pp: dict[str, Any]) -> None:
        if not _is_type(pp, "vagrant"):
            return
        overrides = {name: pp.pop(name) for name in _VAGRANT_PROVIDERS if name in pp}
        if overrides:
            pp["override"] = overrides

    return fix_post_processors(template, change)


def fix_manifest_filename(template: Template) -> Template:
    """``manifest``: a string ``filename`` becomes ``output``."""

    def change(pp: dict[str, Any]) -> None:
        if _is_type(pp, "manifest") and isinstance(pp.get("filename"), str):
            pp["output"] = pp.pop("filename")

    return fix_post_processors(template, change)


def fix_docker_email(template: Template) -> Template:
    """``login_email`` is removed from every builder and post-processor (only when post-processors exist)."""
    if template.get("post-processors") is None:
        return template
    out = template
    builders = decode_builders(out)
    pps = decode_list(out.get("post-processors"), "post-processors", weak=False)
    for _, builder in iter_builders(builders):
        builder.pop("login_email", None)
    for pp in pp_list(pps):
        pp.pop("login_email", None)
    out["builders"] = builders
    out["post-processors"] = pps
    return out


def _tags_of(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [tag.strip(_GO_SPACE) for tag in value.split(",")]
    if not isinstance(value, list):
        return []  # Packer ignores other types (and still writes "tags")
    for item in value:
        if not isinstance(item, str):  # Packer 1.6.6 crashes here
            raise FixError(f"{where}: every tag must be a string, got {go_kind(item)}")
    return list(value)


def fix_docker_tag_tags(template: Template) -> Template:
    """``docker-tag``: ``tag`` and ``tags`` (lists or comma-separated strings) merge into a de-duplicated ``tags``."""

    def change(pp: dict[str, Any]) -> None:
        if not _is_type(pp, "docker-tag"):
            return
        tags = _tags_of(pp.get("tag"), "docker-tag post-processor: tag")
        tags += _tags_of(pp.get("tags"), "docker-tag post-processor: tags")
        pp.pop("tag", None)
        pp["tags"] = list(dict.fromkeys(tags))

    return fix_post_processors(template, change)

"""Fixers for ISO checksum options: ``iso-md5`` and ``iso-checksum-type-and-url``."""

from __future__ import annotations

from typing import Any

from imagesmith.template.fix.mapdecode import Builder, Template, fix_builders


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def fix_iso_md5(template: Template) -> Template:
    """A string ``iso_md5`` becomes ``iso_checksum`` with ``iso_checksum_type: md5`` (any builder)."""

    def change(builder: Builder, where: str) -> None:
        md5 = builder.get("iso_md5")
        if isinstance(md5, str):
            del builder["iso_md5"]
            builder["iso_checksum"] = md5
            builder["iso_checksum_type"] = "md5"

    return fix_builders(template, change)


def fix_iso_checksum_type_and_url(template: Template) -> Template:
    """``iso_checksum_url`` and ``iso_checksum_type`` are removed and folded into ``iso_checksum``.

    A URL wins (``file:<url>``); otherwise a type prefixes the checksum (``md5:<sum>``). Non-string
    values count as empty; when there is neither a checksum nor a URL the checksum is left alone.
    """

    def change(builder: Builder, where: str) -> None:
        url = _string(builder.pop("iso_checksum_url", None))
        kind = _string(builder.pop("iso_checksum_type", None))
        checksum = _string(builder.get("iso_checksum"))
        if not checksum and not url:
            return
        if url:
            checksum = "file:" + url
        elif kind:
            checksum = f"{kind}:{checksum}"
        builder["iso_checksum"] = checksum

    return fix_builders(template, change)
